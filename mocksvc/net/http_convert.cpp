#include "mocksvc/net/http_convert.hpp"

namespace mocksvc::net {

namespace http = boost::beast::http;

auth::HttpRequest from_beast_request(const http::request<http::string_body>& req) {
  auth::HttpRequest out;
  out.method = std::string(req.method_string());
  out.target = std::string(req.target());
  for (const auto& field : req) out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  out.body = req.body();
  return out;
}

http::request<http::string_body> to_beast_request(const auth::HttpRequest& req) {
  http::request<http::string_body> out;
  out.version(11);
  out.method_string(req.method);
  out.target(req.target);
  for (const auto& [name, value] : req.headers) out.insert(name, value);
  out.body() = req.body;
  if (!req.body.empty() || req.method == "POST" || req.method == "PUT") out.prepare_payload();
  return out;
}

http::response<http::string_body> to_beast_response(const api::HttpResponse& reply, unsigned version,
                                                    bool keep_alive) {
  http::response<http::string_body> res;
  res.version(version);
  res.result(static_cast<unsigned>(reply.status));
  for (const auto& [name, value] : reply.headers) res.insert(name, value);
  res.body() = reply.body;
  res.keep_alive(keep_alive);
  res.prepare_payload();
  return res;
}

api::HttpResponse from_beast_response(const http::response<http::string_body>& res) {
  api::HttpResponse out;
  out.status = static_cast<int>(res.result_int());
  for (const auto& field : res) out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  out.body = res.body();
  return out;
}

}  // namespace mocksvc::net
