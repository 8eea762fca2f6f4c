// The WebSocket at /v1/events: a client subscribes to jobs by id and receives each change
// of their state, and the text an edit job's model streams while it runs.
//
//   client → {"subscribe": "<job id>"}   {"unsubscribe": "<job id>"}
//   server → {"type": "job", "job": {id, op, status, progress, error?, result?}}
//            (at once on subscribing, then on every change; the final state is the last)
//            {"type": "text", "id": "<job id>", "text": "..."}  (what the model sent since
//            the last message)
//            {"type": "error", "error": {"code", "message"}}   (a bad message; the socket stays)
//
// The session polls the job store (Service::job_event) every 100 ms, so it sees jobs that
// any worker sharing the store runs. At most 64 subscriptions per socket, messages of at
// most 4 KiB; a client that does not answer pings is dropped (Beast's suggested timeouts).
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http.hpp>

#include "server/service.h"

namespace atelier::server {

// Takes over `socket` (whose HTTP request `upgrade` asked for a WebSocket, already
// authorised) and runs the session on the socket's executor until it closes.
void start_event_session(boost::asio::ip::tcp::socket socket,
                         boost::beast::http::request<boost::beast::http::string_body> upgrade, Service& service);

}  // namespace atelier::server
