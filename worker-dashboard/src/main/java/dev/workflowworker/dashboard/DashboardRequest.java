package dev.workflowworker.dashboard;

import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * One HTTP request as the {@link Dashboard} sees it, independent of the server that received it.
 * Adapters ({@link DashboardHttpHandler}, {@link DashboardServlet}) build it; a host with another
 * server builds it the same way.
 *
 * @param method        the HTTP method, upper case
 * @param path          the path below the dashboard's mount point: {@code ""} for the mount point
 *                      itself, else starting with {@code /} (e.g. {@code /api/overview});
 *                      percent-escapes raw or decoded, the dashboard reads either
 * @param requestUri    the full path the client asked for, used to redirect {@code /dashboard} to
 *                      {@code /dashboard/}
 * @param query         the query parameters, first value of each
 * @param headers       the request headers, names in lower case, first value of each
 * @param body          the request body as UTF-8 text, empty when there is none
 * @param remoteAddress the client's address, for the action log
 * @param principal     the name of the user the host authenticated, or null
 */
public record DashboardRequest(String method, String path, String requestUri, Map<String, String> query,
                               Map<String, String> headers, String body, String remoteAddress, String principal) {

    /**
     * Copies the maps and lower-cases the header names.
     *
     * @param method        the HTTP method
     * @param path          the path below the mount point
     * @param requestUri    the full path
     * @param query         the query parameters
     * @param headers       the request headers
     * @param body          the body, or null for none
     * @param remoteAddress the client's address, or null
     * @param principal     the authenticated user, or null
     * @throws NullPointerException if method, path, requestUri, query or headers is null
     */
    public DashboardRequest {
        Objects.requireNonNull(method, "method");
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(requestUri, "requestUri");
        query = Map.copyOf(query);
        Map<String, String> lower = new java.util.HashMap<>();
        headers.forEach((k, v) -> lower.putIfAbsent(k.toLowerCase(Locale.ROOT), v));
        headers = Map.copyOf(lower);
        body = body == null ? "" : body;
        remoteAddress = remoteAddress == null ? "unknown" : remoteAddress;
    }

    /**
     * A header's first value.
     *
     * @param name the header name, any case
     * @return its value, or null
     */
    public String header(String name) {
        return headers.get(name.toLowerCase(Locale.ROOT));
    }
}
