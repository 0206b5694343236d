// Conversions between Beast's HTTP messages and the plain request/response values the api/
// and auth/ layers work with.
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "mocksvc/api/http.hpp"
#include "mocksvc/auth/request.hpp"

namespace mocksvc::net {

auth::HttpRequest from_beast_request(const boost::beast::http::request<boost::beast::http::string_body>& req);
boost::beast::http::request<boost::beast::http::string_body> to_beast_request(const auth::HttpRequest& req);

boost::beast::http::response<boost::beast::http::string_body> to_beast_response(const api::HttpResponse& reply,
                                                                                unsigned version, bool keep_alive);
api::HttpResponse from_beast_response(const boost::beast::http::response<boost::beast::http::string_body>& res);

}  // namespace mocksvc::net
