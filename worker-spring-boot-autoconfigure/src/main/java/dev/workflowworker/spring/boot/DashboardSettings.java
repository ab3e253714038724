package dev.workflowworker.spring.boot;

import dev.workflowworker.core.WorkerService;
import dev.workflowworker.dashboard.Dashboard;
import dev.workflowworker.redis.WorkflowAdmin;
import org.springframework.core.env.Environment;

import java.util.Map;
import java.util.Set;

/**
 * Builds the {@link Dashboard} from {@code workflow.worker.dashboard.*} over the seed variables
 * {@code DASHBOARD_ACTIONS} and {@code DASHBOARD_TOKEN} (what {@code Dashboard.Builder.fromEnvironment}
 * reads, as the {@code serve} host does); loaded only with worker-dashboard present.
 */
final class DashboardSettings {

    static final String PREFIX = "workflow.worker.dashboard.";

    /** Where and whether the page is served: the auto-configuration's business, not the builder's. */
    private static final Set<String> NOT_BUILDER_SETTINGS = Set.of("enabled", "path");

    private DashboardSettings() {
    }

    static Dashboard dashboard(WorkerService service, WorkflowAdmin admin, WorkflowWorkerProperties props,
                               Environment environment) {
        WorkflowWorkerProperties.Dashboard d = props.dashboard();
        Dashboard.Builder b = Dashboard.builder()
                .fromEnvironment(SeedVariables.of(environment, props.seedVariables()))
                .service(service)
                .admin(admin);
        Settings.apply("dashboard.", d, b, NOT_BUILDER_SETTINGS, Map.of("actions", "actionsEnabled"));
        try {
            return b.build();
        } catch (IllegalStateException e) {
            // The service is always set here, so the builder can only object to actions without a way to authorise them.
            String enabledBy = d.actions() != null ? PREFIX + "actions=true" : "DASHBOARD_ACTIONS=true";
            throw new IllegalArgumentException(enabledBy + " is invalid: " + e.getMessage() + "; set "
                    + PREFIX + "token (or DASHBOARD_TOKEN), or " + PREFIX + "trust-host-authentication=true when "
                    + "the host protects " + PREFIX + "path with its own login", e);
        }
    }

    /**
     * The mount point without a trailing slash, so that it maps as {@code path} and {@code path/*}.
     *
     * @throws IllegalArgumentException naming the property if it is not a path below the root
     */
    static String path(String path) {
        String p = path == null ? "" : path.trim();
        if (p.length() > 1 && p.endsWith("/")) {
            p = p.substring(0, p.length() - 1);
        }
        if (!p.startsWith("/") || p.length() < 2 || p.contains("*") || p.contains("?") || p.contains("#")
                || p.contains("//")) {
            // The root would put every request of the application under the dashboard's servlet.
            throw new IllegalArgumentException(PREFIX + "path=" + path + " is invalid: it must start with '/', "
                    + "name a path below the root (e.g. /dashboard) and hold no '*', '?', '#' or '//'");
        }
        return p;
    }
}
