// The `media-server api-server` role: the reference control plane of DESIGN.md §2.1.
// It registers media servers, lists stages, mints ES384 participant tokens for the local
// `stage` role, takes heartbeats and pushes stage_created / stage_deleted over a WebSocket.
// main.cpp dispatches `media-server api-server` here; argv[0] is the role name.
#pragma once

namespace ivs::app {

// Runs the API server until SIGTERM/SIGINT; returns the process exit code (0 on a clean stop,
// 1 when it cannot start, 2 on a bad configuration value).
int run_api_server(int argc, char** argv);

}  // namespace ivs::app
