// The one redaction used by every log line and error that can carry a URL or a secret (issue
// 13; docs/security.md "Secrets in logs"). URLs may carry credentials in their userinfo
// ("https://user:pass@host") or their query ("?token=..."), and destination URLs come from
// configuration (WHIP_DESTINATIONS) and from token responses, so they are logged only through
// redact_url(); secret values are never printed, not even in part.
//
//   redact_url("https://u:p@h:8443/whip/x?token=abc&a#f")  ->
//   "https://***@h:8443/whip/x?token=***&***#***" redact_urls("POST https://h/x?k=v: connect:
//   refused")  -> "POST https://h/x?k=***: connect: refused" redact_secret("hunter2") -> "***"
//   (empty -> "(unset)") redact_secrets("bad token hunter2", {"hunter2"})        -> "bad token ***"
// What is kept: scheme, host, port and path (where a WHIP resource lives, which an operator
// needs). A secret carried in a path segment is not recognised; none of our endpoints put one
// there.
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace ivs::io {

std::string redact_url(std::string_view url);
// Redacts every absolute URL ("<scheme>://...", up to whitespace, a quote or '<' '>') in text.
std::string redact_urls(std::string_view text);
std::string redact_secret(std::string_view secret);
// Replaces every occurrence of each non-empty secret in `text` by "***", then redacts URLs.
std::string redact_secrets(std::string_view text, std::span<const std::string> secrets);

}  // namespace ivs::io
