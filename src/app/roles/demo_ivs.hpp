// `media-server demo --ivs` (DEMO_STAGE_SOURCE=ivs, issue 14): the local stand-in for the IVS
// Real-Time API (the `ivs-fake` role) takes the API server's place and port, its stages tagged
// media-server=demo, and the media server runs with STAGE_SOURCE=ivs against it with the demo's
// AWS keys (docs/demo.md, docs/ivs-direct.md). Also the URL helper the demo's specs share.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "app/roles/demo_children.hpp"
#include "app/roles/demo_role.hpp"

namespace ivs::app::demo {

// "http://<host>:<port><path>".
std::string url(const std::string& host, std::uint16_t port, std::string_view path);

// The stand-in for the IVS Real-Time API, on DEMO_API_PORT, with DEMO_STAGES stages tagged.
ChildSpec ivs_fake_spec(const DemoOptions& o);
// The media server's STAGE_SOURCE=ivs settings, pointed at the stand-in.
void add_ivs_media_settings(const DemoOptions& o, ChildSpec& media);
// The curl line that creates one more tagged stage in the stand-in.
void print_ivs_create_stage_hint(const DemoOptions& o);

}  // namespace ivs::app::demo
