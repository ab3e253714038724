package dev.workflowworker.spring.boot;

import dev.workflowworker.core.WorkerService;
import dev.workflowworker.dashboard.Dashboard;
import dev.workflowworker.redis.WorkflowAdmin;
import org.springframework.core.env.Environment;

/**
 * Builds the {@link Dashboard} from {@code workflow.worker.dashboard.*} over the seed variables
 * {@code DASHBOARD_ACTIONS} and {@code DASHBOARD_TOKEN} (what {@code Dashboard.Builder.fromEnvironment}
 * reads, as the {@code serve} host does); loaded only with worker-dashboard present.
 */
final class DashboardSettings {

    static final String PREFIX = "workflow.worker.dashboard.";

    private DashboardSettings() {
    }

    static Dashboard dashboard(WorkerService service, WorkflowAdmin admin, WorkflowWorkerProperties props,
                               Environment environment) {
        WorkflowWorkerProperties.Dashboard d = props.getDashboard();
        Dashboard.Builder b = Dashboard.builder()
                .fromEnvironment(SeedVariables.of(environment, props.isSeedVariables()))
                .service(service)
                .admin(admin);
        String p = "dashboard.";
        Settings.set(p + "actions", d.getActions(), b::actionsEnabled);
        Settings.set(p + "token", d.getToken(), b::token);
        b.trustHostAuthentication(d.isTrustHostAuthentication());
        Settings.set(p + "replay-rate-per-second", d.getReplayRatePerSecond(), b::replayRatePerSecond);
        Settings.set(p + "search-budget", d.getSearchBudget(), b::searchBudget);
        Settings.set(p + "sample-interval", d.getSampleInterval(), b::sampleInterval);
        Settings.set(p + "history", d.getHistory(), b::history);
        try {
            return b.build();
        } catch (IllegalStateException e) {
            // The service is always set here, so the builder can only object to actions without a way to authorise them.
            String enabledBy = d.getActions() != null ? PREFIX + "actions=true" : "DASHBOARD_ACTIONS=true";
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
