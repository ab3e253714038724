package dev.workflowworker.spring.boot;

import dev.workflowworker.api.spi.EventTransport;
import dev.workflowworker.core.WorkerService;
import dev.workflowworker.dashboard.Dashboard;
import dev.workflowworker.dashboard.DashboardServlet;
import dev.workflowworker.redis.RedisEventTransport;
import dev.workflowworker.redis.WorkflowAdmin;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.web.servlet.ServletRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.core.env.Environment;

/**
 * Serves the operator's dashboard (worker-dashboard) in a servlet web application at
 * {@code workflow.worker.dashboard.path} (default {@code /dashboard}), for the context's
 * {@link WorkerService} and, on Redis, a {@link WorkflowAdmin} on the service's stream.
 *
 * <p>Off unless {@code workflow.worker.dashboard.enabled=true}: the page shows dead-letter
 * payloads, errors and stacks to whoever reaches the path, so the host opts in, ideally with the
 * path behind its own login. It is read-only unless {@code workflow.worker.dashboard.actions=true},
 * which needs {@code workflow.worker.dashboard.token} or
 * {@code workflow.worker.dashboard.trust-host-authentication=true}; the application fails to
 * start, naming the property, otherwise.
 *
 * <p>Each bean backs off when the host defines its own: a {@link WorkflowAdmin} (then used as is),
 * a {@link Dashboard} (then mounted as is), or a {@link DashboardServlet} or a bean named
 * {@value #REGISTRATION_BEAN_NAME} (then nothing is mounted by this configuration).
 */
@AutoConfiguration(after = WorkflowWorkerAutoConfiguration.class)
@ConditionalOnClass({Dashboard.class, DashboardServlet.class, ServletRegistrationBean.class})
@ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.SERVLET)
@ConditionalOnProperty(prefix = "workflow.worker.dashboard", name = "enabled", havingValue = "true",
        matchIfMissing = false)
@ConditionalOnBean(WorkerService.class)
public class WorkflowWorkerDashboardAutoConfiguration {

    /** The name of the servlet registration bean; a host's bean of this name replaces it. */
    public static final String REGISTRATION_BEAN_NAME = "workflowDashboardServletRegistration";

    /** The servlet's name in the container. */
    public static final String SERVLET_NAME = "workflowDashboard";

    /** Creates the auto-configuration; Spring calls it. */
    public WorkflowWorkerDashboardAutoConfiguration() {
    }

    /**
     * Queue statistics and dead letters of the service's own stream, when the service runs on the
     * Redis transport; closed with the context.
     *
     * @param transport the service's transport
     * @return an admin with its own connections, or null (no bean) on another transport
     */
    @Bean
    @ConditionalOnMissingBean
    public WorkflowAdmin workflowDashboardAdmin(ObjectProvider<EventTransport> transport) {
        // The transport's own options, not the RedisOptions bean: a host's own transport may point elsewhere.
        // Its own connections, so a dashboard reading dead letters never competes with the workers' pool.
        return transport.getIfUnique() instanceof RedisEventTransport redis ? WorkflowAdmin.create(redis.options())
                : null;
    }

    /**
     * The dashboard; closed with the context, before the service and the admin it reads.
     *
     * @param service     the service shown and acted on
     * @param admin       the admin, if any
     * @param properties  {@code workflow.worker.dashboard.*}
     * @param environment where the seed variables are looked up
     * @return the dashboard, sampling the service's counters
     * @throws IllegalArgumentException naming the property when the settings are invalid
     */
    @Bean
    @ConditionalOnMissingBean
    public Dashboard workflowDashboard(WorkerService service, ObjectProvider<WorkflowAdmin> admin,
                                       WorkflowWorkerProperties properties, Environment environment) {
        return DashboardSettings.dashboard(service, admin.getIfUnique(), properties, environment);
    }

    /**
     * Mounts the dashboard at {@code path} (which redirects to {@code path/}) and below it.
     *
     * @param dashboard  the dashboard
     * @param properties {@code workflow.worker.dashboard.path}
     * @return the registration
     * @throws IllegalArgumentException naming the property when the path is invalid
     */
    @Bean(name = REGISTRATION_BEAN_NAME)
    @ConditionalOnMissingBean(value = DashboardServlet.class, name = REGISTRATION_BEAN_NAME)
    public ServletRegistrationBean<DashboardServlet> workflowDashboardServletRegistration(
            Dashboard dashboard, WorkflowWorkerProperties properties) {
        String path = DashboardSettings.path(properties.dashboard().path());
        ServletRegistrationBean<DashboardServlet> registration =
                new ServletRegistrationBean<>(new DashboardServlet(dashboard), path, path + "/*");
        registration.setName(SERVLET_NAME);
        return registration;
    }
}
