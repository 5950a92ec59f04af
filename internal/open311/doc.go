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
//	GET  servicerequestupdates.{fmt}   changes of requests in a window (mySociety's extension)
//	POST servicerequestupdates.{fmt}   a client's update to one of its requests
//
// The last two are served when the Backend is also an UpdatesBackend;
// discovery then lists a second endpoint at the same URL whose
// specification is UpdatesSpecification.
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
//     Content-Type is missing) within Options.MaxBodyBytes (1 MiB by
//     default), or multipart/form-data whose text fields together stay
//     within MaxBodyBytes and whose file parts (photos sent instead of
//     media_url) stream into Options.NewUploads' Uploads within
//     Options.MaxUploadBytes; without NewUploads a file part is 400. 413
//     above the limits; any other type is 415. Query-string parameters of
//     the POST are merged with the body.
//   - POST checks, first failure wins: jurisdiction (404), api_key missing
//     (403; its validity is the Backend's), then ParseNewRequest (400):
//     service_code, lat/long (both or neither, decimal numbers, in range),
//     a location, description ≤ 4000 characters after every CR LF pair and
//     lone CR became one LF (one limit, one message), media_url http(s),
//     repeatable up to MaxMediaURLs, attribute syntax, text that is valid
//     UTF-8 without control characters other than tab and line breaks.
//     Unknown service codes (404) and missing required attributes (400) are
//     the Backend's to report; attributes a service does not define are
//     passed on (the application keeps them for the office).
//   - A POST requests.{fmt} with service_request_id and without
//     service_code is a query, answered as GET requests.{fmt}: the way to
//     send an id list too long for a URL.
//   - "coord" (wgs84, gcj02, bd09; default wgs84) is this server's extension
//     for the Chinese map datums of lat/long.
//   - GET requests.{fmt}: service_request_id (comma list, also repeated,
//     of any length) overrides every filter, including paging and dates;
//     only extensions and extended_statuses still apply. The handler asks
//     the Backend IDChunk ids at a time and writes each chunk's requests
//     before reading the next, so memory holds one chunk whatever the list.
//     service_code and status are comma lists and may also be
//     repeated. start_date/end_date filter requested_datetime, both
//     inclusive; they may not span more than 90 days (400), and when neither
//     is given the window is the last 90 days; one alone extends 90 days from
//     it. A date without a time (2026-07-14) is the whole day in
//     Options.Location. A space where the offset's "+" belongs (an unencoded
//     "+" in a query string) is read as "+". updated_after/updated_before
//     (v2.1 draft) filter updated_datetime; when either is given and no
//     start_date/end_date, no default requested_datetime window applies, so a
//     client syncing changes sees old requests updated lately. page (from 1)
//     and page_size (default 1000, the specification's "first 1000", 1..1000,
//     400 outside) page the result; extensions=true adds attributes,
//     extended_attributes and notes.
//   - Statuses: status is open or closed, as the specification says.
//     extended_statuses=true (or Options.ExtendedStatuses) asks for the
//     detailed statuses FixMyStreet reads (the Status* constants:
//     investigating, in_progress, action_scheduled, fixed, duplicate,
//     not_councils_responsibility, no_further_action); updates always
//     carry them, in upper case.
//   - Lists (requests, updates) are streamed: nothing is written until the
//     first item is ready, so an early failure is a proper error answer; a
//     failure after that aborts the connection rather than end a list that
//     would look whole. Streamed answers have no Content-Length.
//   - GET servicerequestupdates.{fmt}: start_date/end_date bound the
//     updates' times, with the window rules of requests (default the last
//     90 days). Each update has update_id, service_request_id, status,
//     updated_datetime, description and media_url.
//   - POST servicerequestupdates.{fmt}: api_key (403 without),
//     service_request_id and update_id (the client's own id, 400 without)
//     are required, and a description or media (a media_url or a file);
//     status is a word (OPEN, FIXED, "in progress"; spaces become "_"),
//     updated_datetime a W3C time; first_name, last_name, email, phone,
//     account_id, service_code and attribute[...] are passed on. The answer
//     is a list of one {update_id}. The Backend records each (client,
//     update_id) once, so a retry answers the first id.
//
// How FixMyStreet's Open311 module (perllib/Open311.pm and the
// Open311::Get* updaters) fares against this server, option by option,
// tried with the module itself, unmodified:
//
//   - Sending reports: title, detail and report URL with CR LF breaks
//     (extended_description) up to 4,000 characters; first_name/last_name
//     from its name split at the first space, kept in that order (with a
//     space between Latin names, none between Chinese ones); account_id
//     echoed; lat/long always (always_send_latlong) or address_string /
//     address_id (send_notpinpointed's "#NOTPINPOINTED#" is stored as an
//     address id and left for the acceptor to place).
//   - Extra fields and uprn as attribute[...]: kept, shown to the office (acceptors, administrators), not to units.
//   - multi_photos (media_url repeated) and upload_files /
//     always_upload_photos (photo files in a multipart POST): accepted;
//     the files go through the public page's photo path.
//   - use_service_as_deviceid: device_id is kept, never published.
//   - Token polling (batch services): tokens/{token} answers the case
//     number at once (every service is realtime).
//   - Fetching reports back (Open311::GetServiceRequests, start and end
//     date within the last hour): the window rules above; media_url is the
//     client's own link when it gave one, else our public photo.
//   - Status updates for bodies without send_comments (Open311::GetUpdates
//     posts every open report's id in one GET requests): any number of
//     ids; with --open311-extended-statuses a merged case reads duplicate,
//     not fixed.
//   - send_comments / fetching updates (Open311::GetServiceRequestUpdates,
//     a window of the last two hours): the servicerequestupdates feed with
//     detailed statuses; the unit's reply and its after photo as
//     description and media_url.
//   - Posting updates (Open311::PostServiceRequestUpdates, with
//     upload_files_for_updates or media_url): accepted on the client's own
//     requests, once per update_id; another client's request is 403.
//   - Errors: the body is a list of one {code, description}; code is the
//     HTTP status unless the Backend's *Error gives its own. 404 unknown
//     resource, jurisdiction, code, id or token; 403 api_key; 400 bad input;
//     405 wrong method (with Allow); 413 body too large; 415 media type;
//     500 (logged, generic description) for any error that is not an *Error.
package open311
