package dev.workflowworker.dashboard;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Mounts a {@link Dashboard} in a servlet container (Jakarta Servlet 6; the container provides the
 * API). Map it to a path ending in {@code /*}:
 *
 * <pre>{@code
 * ServletRegistration.Dynamic reg = servletContext.addServlet("workflowDashboard", new DashboardServlet(dashboard));
 * reg.addMapping("/dashboard/*");
 * }</pre>
 *
 * In Spring Boot, a {@code ServletRegistrationBean<DashboardServlet>} with the mapping
 * {@code /dashboard/*} does the same. The request's {@code getUserPrincipal()} is passed on as the
 * user, so with {@link Dashboard.Builder#trustHostAuthentication(boolean)} the host's own login
 * authorises actions.
 */
public class DashboardServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;

    /** Not serializable: a servlet container that passivates servlets would need a new dashboard anyway. */
    private final transient Dashboard dashboard;

    /**
     * Creates the servlet.
     *
     * @param dashboard the dashboard to serve
     */
    public DashboardServlet(Dashboard dashboard) {
        this.dashboard = Objects.requireNonNull(dashboard, "dashboard");
    }

    @Override
    protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        byte[] body = DashboardHttpHandler.readBody(req.getInputStream());
        if (body == null) {
            resp.setStatus(413);
            return;
        }
        Map<String, String> headers = new HashMap<>();
        for (String name : Collections.list(req.getHeaderNames())) {
            headers.put(name, req.getHeader(name));
        }
        String pathInfo = req.getPathInfo();
        DashboardRequest request = new DashboardRequest(req.getMethod(), pathInfo == null ? "" : pathInfo,
                req.getRequestURI(), DashboardHttpHandler.query(req.getQueryString()), headers,
                new String(body, StandardCharsets.UTF_8), req.getRemoteAddr(),
                req.getUserPrincipal() == null ? null : req.getUserPrincipal().getName());
        DashboardResponse response = dashboard.handle(request);
        resp.setStatus(response.status());
        resp.setContentType(response.contentType());
        response.headers().forEach(resp::setHeader);
        if (!"HEAD".equals(req.getMethod()) && response.body().length > 0) {
            resp.setContentLength(response.body().length);
            resp.getOutputStream().write(response.body());
        }
    }
}
