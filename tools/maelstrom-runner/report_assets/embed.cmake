# Turns report.js and report.css into a C++ source with two raw string
# literals. Run as: cmake -DSRC=<report_assets dir> -DOUT=<file.cc> -P embed.cmake
file(READ ${SRC}/report.js JS)
file(READ ${SRC}/report.css CSS)
foreach(text JS CSS)
  string(FIND "${${text}}" ")EMBED\"" bad)
  if(NOT bad EQUAL -1)
    message(FATAL_ERROR "report asset contains the raw-string delimiter )EMBED\"")
  endif()
endforeach()
file(WRITE ${OUT}.tmp "// Generated from report_assets/ by embed.cmake. Do not edit.\n"
  "#include \"report_assets.h\"\nnamespace runner {\n"
  "const char* const kReportJs = R\"EMBED(${JS})EMBED\";\n"
  "const char* const kReportCss = R\"EMBED(${CSS})EMBED\";\n}  // namespace runner\n")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
file(REMOVE ${OUT}.tmp)
