// Package open311 serves the Open311 GeoReport v2 protocol (公共诉求开放接口)
// over a Backend that the application implements on its case store. The
// package knows HTTP, the wire formats and the parameter rules of the
// specification; it knows nothing of the database.
//
// Endpoints, relative to the prefix given to NewHandler:
//
//	GET  discovery.{fmt}          service discovery (from Options.Discovery)
//	GET  services.{fmt}           service list
//	GET  services/{code}.{fmt}    service definition
//	POST requests.{fmt}           create a service request (form-urlencoded)
//	GET  requests.{fmt}           query service requests
//	GET  requests/{id}.{fmt}      one service request
//	GET  tokens/{token}.{fmt}     service_request_id from a token
//
// Decisions where the specification leaves room, and why:
//
//   - Format: {fmt} is "xml" or "json" (case-insensitive). A known resource
//     with another or no suffix answers 404 with the error body in XML,
//     the one format every GeoReport client must read. Unknown paths answer
//     404 in the suffix's format when it is known, otherwise in XML.
//   - Wire shape: JSON mirrors the XML by the Spark convention the
//     specification names, as its examples do: an empty element is null
//     (status_notes, expected_datetime, lat, ...), a list is an array (empty
//     lists are [] so clients can iterate), lists and errors are bare arrays,
//     the service definition and discovery are objects. XML starts with
//     <?xml version="1.0" encoding="utf-8"?>, has no namespace, and keeps
//     empty elements. Identifiers and codes are JSON strings; lat, long,
//     order and error codes are numbers; metadata, variable, required and
//     duplicate are booleans.
//   - Times are written as ISO 8601 with the offset of Options.Location
//     (2026-07-14T09:30:00+08:00), whole seconds.
//   - jurisdiction_id: the specification lets a server that serves one
//     jurisdiction treat it as optional. With Options.Jurisdiction set, an
//     absent or empty value is accepted, a different one (compared without
//     regard to case) is 404. With it unset the parameter is ignored, as the
//     specification allows ("Implementations can ignore this parameter"),
//     save that a POST may not repeat it (the single-value rule below).
//   - Empty parameters are treated as absent; values are trimmed of
//     surrounding white space. A single-valued parameter given twice is 400.
//     Unknown parameters are ignored.
//   - Language: a "locale" parameter (zh-CN, en), else Accept-Language,
//     resolved by Options.Language. It is passed to the Backend and used for
//     the handler's own error descriptions (Options.Messages, keys
//     "open311.*"). Responses carry Vary: Accept-Language.
//   - POST requests.{fmt} answers 200, not 201: every example in the
//     specification and the servers clients are written against (FixMyStreet
//     among them) answer 200, and some clients test for it. The body is a
//     list of one {service_request_id | token, service_notice, account_id};
//     the id or token that is not set is left out, as the specification
//     requires ("should not be returned"); a blackbox service sets neither.
//   - POST bodies: application/x-www-form-urlencoded (also when the
//     Content-Type is missing) or multipart/form-data without files (a file
//     part is 400: photos go by media_url); anything else is 415. The body
//     is limited to Options.MaxBodyBytes (64 KiB by default), 413 above.
//     Query-string parameters of the POST are merged with the body.
//   - POST checks, first failure wins: jurisdiction (404), api_key missing
//     (403; its validity is the Backend's), then ParseNewRequest (400):
//     service_code, lat/long (both or neither, decimal numbers, in range),
//     a location, description ≤ 4000 characters, media_url http(s),
//     attribute syntax, text that is valid UTF-8 without control characters
//     other than tab and line breaks. Unknown service codes (404) and missing
//     required attributes (400) are the Backend's to report.
//   - "coord" (wgs84, gcj02, bd09; default wgs84) is this server's extension
//     for the Chinese map datums of lat/long.
//   - GET requests.{fmt}: service_request_id (comma list, at most 500)
//     overrides every filter, including paging and dates; only extensions
//     still applies. service_code and status are comma lists and may also be
//     repeated. start_date/end_date filter requested_datetime, both
//     inclusive; they may not span more than 90 days (400), and when neither
//     is given the window is the last 90 days; one alone extends 90 days from
//     it. A date without a time (2026-07-14) is the whole day in
//     Options.Location. A space where the offset's "+" belongs (an unencoded
//     "+" in a query string) is read as "+". updated_after/updated_before
//     (v2.1 draft) filter updated_datetime; when either is given and no
//     start_date/end_date, no default requested_datetime window applies, so a
//     client syncing changes sees old requests updated lately. page (from 1)
//     and page_size (default 50, 1..500, 400 outside) page the result;
//     extensions=true adds attributes, extended_attributes and notes.
//   - Errors: the body is a list of one {code, description}; code is the
//     HTTP status unless the Backend's *Error gives its own. 404 unknown
//     resource, jurisdiction, code, id or token; 403 api_key; 400 bad input;
//     405 wrong method (with Allow); 413 body too large; 415 media type;
//     500 (logged, generic description) for any error that is not an *Error.
package open311
