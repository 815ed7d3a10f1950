// The report's script and style sheet, embedded at build time from
// report_assets/ (see embed.cmake) so the binary writes self-contained HTML.
#pragma once

namespace runner {

extern const char* const kReportJs;
extern const char* const kReportCss;

}  // namespace runner
