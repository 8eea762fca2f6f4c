// The network side of `atelier serve` (Boost.Beast/Asio): accepts connections on
// config.host:config.port, reads each request within the header, body and time limits
// (a body over --max-body is refused from its Content-Length, before it is read; a client
// that does not send its whole request within --read-timeout is cut off), answers
// `Expect: 100-continue`, CORS preflights when --allow-origin is set, and hands every
// request to the Service. Keep-alive; at most config.max_connections at once.
#pragma once

#include "core/status.h"
#include "server/service.h"

namespace atelier::server {

// Binds, prints "listening on http://HOST:PORT" (the port it got) as the first line on
// stdout, and serves until SIGTERM or SIGINT; then stops accepting, lets the service finish
// what runs for up to config.timeout seconds, and returns. Errors: the address cannot be
// bound ("127.0.0.1:8080: address already in use").
Status run_http_server(Service& service);

}  // namespace atelier::server
