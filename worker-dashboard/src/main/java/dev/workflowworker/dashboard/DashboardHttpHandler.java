package dev.workflowworker.dashboard;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;

import java.util.Map;
import java.util.Objects;

/**
 * Mounts a {@link Dashboard} on the JDK's {@code com.sun.net.httpserver.HttpServer}:
 *
 * <pre>{@code
 * server.createContext("/dashboard", new DashboardHttpHandler(dashboard));
 * }</pre>
 *
 * The context's path is the mount point; the principal of an {@code Authenticator} set on the
 * context is passed on as the request's user.
 */
public final class DashboardHttpHandler implements HttpHandler {

    /** Request bodies are small JSON objects; anything larger is refused before it is read. */
    static final int MAX_BODY = 64 * 1024;

    private final Dashboard dashboard;

    /**
     * Creates the handler.
     *
     * @param dashboard the dashboard to serve
     */
    public DashboardHttpHandler(Dashboard dashboard) {
        this.dashboard = Objects.requireNonNull(dashboard, "dashboard");
    }

    @Override
    public void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String mount = exchange.getHttpContext().getPath();
            String full = exchange.getRequestURI().getRawPath();
            String path = full.length() >= mount.length() ? full.substring(mount.length()) : "";
            if (mount.endsWith("/") && !path.startsWith("/")) {
                path = "/" + path;
            }
            if (!path.isEmpty() && !path.startsWith("/")) {
                // "/dashboardx" matches the "/dashboard" context by prefix but is not ours.
                write(exchange, 404, "application/json", Map.of(), "{\"error\":\"not found\"}".getBytes(StandardCharsets.UTF_8));
                return;
            }
            byte[] body = readBody(exchange.getRequestBody());
            if (body == null) {
                write(exchange, 413, "application/json", Map.of(),
                        "{\"error\":\"request body too large\"}".getBytes(StandardCharsets.UTF_8));
                return;
            }
            Map<String, String> headers = new HashMap<>();
            exchange.getRequestHeaders().forEach((k, v) -> {
                if (!v.isEmpty()) {
                    headers.put(k, v.get(0));
                }
            });
            DashboardRequest request = new DashboardRequest(exchange.getRequestMethod(), path, full,
                    query(exchange.getRequestURI().getRawQuery()), headers, new String(body, StandardCharsets.UTF_8),
                    exchange.getRemoteAddress() == null ? null : exchange.getRemoteAddress().getAddress().getHostAddress(),
                    exchange.getPrincipal() == null ? null : exchange.getPrincipal().getUsername());
            DashboardResponse response = dashboard.handle(request);
            byte[] out = "HEAD".equals(exchange.getRequestMethod()) ? new byte[0] : response.body();
            write(exchange, response.status(), response.contentType(), response.headers(), out);
        }
    }

    private static void write(HttpExchange exchange, int status, String contentType, Map<String, String> headers,
                              byte[] body) throws IOException {
        exchange.getResponseHeaders().set("Content-Type", contentType);
        headers.forEach((k, v) -> exchange.getResponseHeaders().set(k, v));
        exchange.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        if (body.length > 0) {
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        }
    }

    /** The body, or null when it is larger than {@link #MAX_BODY}. */
    static byte[] readBody(InputStream in) throws IOException {
        byte[] b = in.readNBytes(MAX_BODY + 1);
        return b.length > MAX_BODY ? null : b;
    }

    static Map<String, String> query(String raw) {
        Map<String, String> out = new HashMap<>();
        if (raw == null || raw.isEmpty()) {
            return out;
        }
        for (String pair : raw.split("&")) {
            int eq = pair.indexOf('=');
            String k = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            String v = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            out.putIfAbsent(k, v);
        }
        return out;
    }

}
