// The per-run HTML report (store/<workload>/<ts>/index.html) and the anomaly
// page of `check FILE --html OUT`. One self-contained file: the data as
// inline JSON, the drawing code and styles inline (report_assets/), plots as
// data: URIs. Nothing is fetched from the network.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "history_log.h"
#include "linearizability/checker.h"
#include "messages_log.h"

namespace runner {

struct ReportInput {
  std::string title;                                 // e.g. "lin-kv 20250101T120000.123"
  nlohmann::json results;                            // results.json, or null (check mode)
  std::vector<std::string> summary;                  // sentences; derived from results if empty
  const std::vector<lin::Event>* history = nullptr;  // required
  const lin::CheckReport* check = nullptr;           // required
  int64_t time_base_ns = 0;                          // history time shown as t=0
  std::vector<NemesisEvent> nemesis;                 // times relative, as in the history
  const MessagesLog* messages = nullptr;             // optional
  int64_t messages_t0_mono = 0;                      // monotonic time of history time 0
  std::vector<std::string> nodes;                    // lanes of the message diagram
  int lanes_modulo = 0;                 // >0: a process's timeline row is process mod this (worker)
  std::vector<std::string> plot_files;  // PNGs to inline (missing ones skipped)
  std::string full_messages_file;       // named in the message diagram's note
};

// The embedded messages are capped so a long run's report stays small; the
// diagram says which time ranges are complete.
constexpr size_t kMaxEmbeddedMessages = 40'000;

// Returns false and sets *error if the file cannot be written.
// Text made safe inside HTML elements and attribute values.
std::string html_escape(const std::string& s);

bool write_report(const std::string& path, const ReportInput& in, std::string* error);

// Builds the data object the report's script draws from (exposed for tests).
nlohmann::json report_data(const ReportInput& in);

// results.json in a few sentences.
std::vector<std::string> summarize_results(const nlohmann::json& results);

// Writes index.html for a finished run directory from its files
// (results.json, history.jsonl, nemesis.jsonl, plots) plus the in-memory
// check report and messages log.
bool write_run_report(const std::string& run_dir, const lin::CheckReport& check,
                      const HistoryLog& history, const MessagesLog* messages,
                      const std::vector<std::string>& nodes, int concurrency, std::string* error);

}  // namespace runner
