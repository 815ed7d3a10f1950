#include "http.h"

#include <curl/curl.h>

#include <algorithm>
#include <stdexcept>

namespace raftkv::etcd {

struct HttpClient::Transfer {
  CURL* easy = nullptr;
  uint64_t id = 0;
  std::string request;
  std::string response;
  char error[CURL_ERROR_SIZE] = {};
};

namespace {

size_t on_data(char* p, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(p, size * n);
  return size * n;
}

curl_slist* json_headers() {
  // "Expect:" stops curl from waiting for a 100-continue on larger bodies.
  static curl_slist* h =
      curl_slist_append(curl_slist_append(nullptr, "Content-Type: application/json"), "Expect:");
  return h;
}

}  // namespace

HttpClient::HttpClient(long timeout_ms, long max_connections) : timeout_ms_(timeout_ms) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  multi_ = curl_multi_init();
  if (!multi_) throw std::runtime_error("curl_multi_init failed");
  // HTTP/1.1 carries one request per connection at a time. Past this many
  // connections curl queues requests until one frees up, rather than
  // opening (and, beyond the cache, closing) a connection per request.
  curl_multi_setopt(multi_, CURLMOPT_MAX_TOTAL_CONNECTIONS, max_connections);
  curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, max_connections);
}

HttpClient::~HttpClient() {
  for (Transfer* t : idle_) {
    curl_easy_cleanup(t->easy);
    delete t;
  }
  curl_multi_cleanup(multi_);
}

void HttpClient::post(uint64_t id, const std::string& url, std::string body) {
  Transfer* t;
  if (!idle_.empty()) {
    t = idle_.back();
    idle_.pop_back();
  } else {
    t = new Transfer;
    t->easy = curl_easy_init();
    CURL* e = t->easy;
    curl_easy_setopt(e, CURLOPT_PRIVATE, t);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &t->response);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->error);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, json_headers());
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_NOPROXY, "*");  // an http_proxy in the env must not intercept
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms_);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, std::min(timeout_ms_, 1000L));
  }
  t->id = id;
  t->request = std::move(body);
  t->response.clear();
  t->error[0] = '\0';
  curl_easy_setopt(t->easy, CURLOPT_URL, url.c_str());
  curl_easy_setopt(t->easy, CURLOPT_POSTFIELDSIZE, static_cast<long>(t->request.size()));
  curl_easy_setopt(t->easy, CURLOPT_POSTFIELDS, t->request.data());
  curl_multi_add_handle(multi_, t->easy);
  ++in_flight_;
}

bool HttpClient::wait(int extra_fd, int timeout_ms) {
  curl_waitfd fd{extra_fd, CURL_WAIT_POLLIN, 0};
  int n = 0;
  curl_multi_poll(multi_, &fd, extra_fd >= 0 ? 1 : 0, timeout_ms, &n);
  return extra_fd >= 0 && (fd.revents & (CURL_WAIT_POLLIN | CURL_WAIT_POLLPRI)) != 0;
}

void HttpClient::perform(const std::function<void(HttpResult&)>& done) {
  int running = 0;
  curl_multi_perform(multi_, &running);
  int left = 0;
  while (CURLMsg* m = curl_multi_info_read(multi_, &left)) {
    if (m->msg != CURLMSG_DONE) continue;
    Transfer* t = nullptr;
    curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &t);
    HttpResult r;
    r.id = t->id;
    CURLcode code = m->data.result;
    long connects = 0;
    curl_easy_getinfo(t->easy, CURLINFO_NUM_CONNECTS, &connects);
    connects_ += static_cast<uint64_t>(connects);
    if (code == CURLE_OK) {
      curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &r.status);
      r.body = std::move(t->response);
    } else {
      r.sent = code != CURLE_COULDNT_CONNECT && code != CURLE_COULDNT_RESOLVE_HOST;
      r.error = t->error[0] ? t->error : curl_easy_strerror(code);
    }
    curl_multi_remove_handle(multi_, t->easy);
    --in_flight_;
    idle_.push_back(t);
    done(r);
  }
}

}  // namespace raftkv::etcd
