// Small text codecs the backend and api share: timestamps as AWS writes and reads them (epoch
// seconds as JSON numbers out; ISO-8601 or epoch seconds in, as DescribeSessions filters take
// them), unpadded base64url for tokens, cell numbers and pagination tokens, and padded standard
// base64 for the on-premises agent's keys and signatures.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "mocksvc/backend/model.hpp"

namespace mocksvc::backend {

// Seconds since the epoch with millisecond precision, for JSON timestamps.
double epoch_seconds(TimePoint t);
TimePoint from_epoch_millis(std::int64_t ms);
std::int64_t epoch_millis(TimePoint t);

// "2026-11-24T05:54:23Z" (UTC, whole seconds), as CloudTrail's eventTime.
std::string format_iso8601(TimePoint t);

// Accepts "2026-11-24", "2026-11-24T05:54", "2026-11-24T05:54:23", optional fraction, optional
// "Z" or "+hh:mm"/"-hh:mm" (no suffix: UTC), or epoch seconds ("1732427663", "1732427663.5").
std::optional<TimePoint> parse_timestamp(std::string_view text);

std::string base64url_encode(std::string_view bytes);
// Rejects padding, characters outside the URL-safe alphabet and impossible lengths.
std::optional<std::string> base64url_decode(std::string_view text);

// Standard base64 with '=' padding (RFC 4648 §4), as Go's base64.StdEncoding writes it: the
// on-premises agent's public keys and RSA signatures (agent.md §9.2).
std::string base64_encode(std::string_view bytes);
// Strict: padding required, no whitespace or URL-safe characters.
std::optional<std::string> base64_decode(std::string_view text);

// Unicode code points in UTF-8 text (AWS length constraints count characters, not bytes):
// every byte that is not a UTF-8 continuation byte starts one.
std::size_t count_code_points(std::string_view utf8);

}  // namespace mocksvc::backend
