package dev.workflowworker.dashboard;

import java.util.Map;
import java.util.Objects;

/**
 * The {@link Dashboard}'s answer to one request, for an adapter to write out.
 *
 * @param status      the HTTP status code
 * @param contentType the {@code Content-Type} header
 * @param headers     further headers to set (security headers, {@code Location}, {@code Allow})
 * @param body        the body bytes
 */
public record DashboardResponse(int status, String contentType, Map<String, String> headers, byte[] body) {

    /**
     * Copies the headers.
     *
     * @param status      the HTTP status code
     * @param contentType the content type
     * @param headers     further headers
     * @param body        the body
     * @throws NullPointerException if contentType, headers or body is null
     */
    public DashboardResponse {
        Objects.requireNonNull(contentType, "contentType");
        headers = Map.copyOf(headers);
        Objects.requireNonNull(body, "body");
    }
}
