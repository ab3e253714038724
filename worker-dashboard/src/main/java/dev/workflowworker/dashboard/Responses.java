package dev.workflowworker.dashboard;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The module's one {@link ObjectMapper} and the responses every part of the dashboard answers
 * with: each carries the security headers (see docs/ARCHITECTURE.md, "Dashboard"), and every JSON
 * body is a record written by the mapper.
 */
final class Responses {

    /** Reads request bodies and dead-letter entries, writes every JSON body; thread-safe once built. */
    static final ObjectMapper JSON = new ObjectMapper();

    static final String JSON_TYPE = "application/json; charset=utf-8";

    private static final Map<String, String> SECURITY_HEADERS = Map.of(
            "Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                    + "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
            "X-Content-Type-Options", "nosniff",
            "Referrer-Policy", "no-referrer",
            "X-Frame-Options", "DENY",
            "Cache-Control", "no-store");

    /** The body of every refusal and failure; the page shows {@code error}. */
    record ErrorBody(String error) {
    }

    private Responses() {
    }

    static DashboardResponse ok(String contentType, byte[] body) {
        return new DashboardResponse(200, contentType, withSecurity(Map.of()), body);
    }

    static DashboardResponse ok(Object body) {
        return json(200, body);
    }

    static DashboardResponse json(int status, Object body) {
        return json(status, Map.of(), body);
    }

    static DashboardResponse error(int status, String message) {
        return json(status, new ErrorBody(message));
    }

    static DashboardResponse methodNotAllowed(String allow) {
        return json(405, Map.of("Allow", allow), new ErrorBody("method not allowed"));
    }

    static DashboardResponse redirect(String location) {
        return new DashboardResponse(302, "text/plain; charset=utf-8", withSecurity(Map.of("Location", location)),
                new byte[0]);
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static DashboardResponse json(int status, Map<String, String> headers, Object body) {
        try {
            return new DashboardResponse(status, JSON_TYPE, withSecurity(headers), JSON.writeValueAsBytes(body));
        } catch (JsonProcessingException e) {
            // Records of strings, numbers and JSON trees: a failure here is a bug, answered as 503 by the caller.
            throw new IllegalStateException("cannot write " + body.getClass().getSimpleName() + " as JSON", e);
        }
    }

    private static Map<String, String> withSecurity(Map<String, String> extra) {
        Map<String, String> h = new LinkedHashMap<>(SECURITY_HEADERS);
        h.putAll(extra);
        return h;
    }
}
