package dev.workflowworker.spring.boot;

import dev.workflowworker.api.EventContext;
import dev.workflowworker.api.spi.EventTransport;
import dev.workflowworker.core.memory.InMemoryEventTransport;
import dev.workflowworker.dashboard.Dashboard;
import dev.workflowworker.dashboard.DashboardRequest;
import dev.workflowworker.dashboard.DashboardResponse;
import dev.workflowworker.dashboard.DashboardServlet;
import dev.workflowworker.redis.WorkflowAdmin;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.context.runner.WebApplicationContextRunner;
import org.springframework.boot.web.servlet.ServletRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static dev.workflowworker.spring.boot.WorkflowWorkerAutoConfigurationTest.rootMessage;
import static dev.workflowworker.spring.boot.WorkflowWorkerDashboardAutoConfiguration.REGISTRATION_BEAN_NAME;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The dashboard's auto-configuration in a servlet web context runner, against a real redis-server. */
class WorkflowWorkerDashboardAutoConfigurationTest {

    private static final AutoConfigurations CONFIGURATIONS = AutoConfigurations.of(
            WorkflowWorkerAutoConfiguration.class, WorkflowWorkerDashboardAutoConfiguration.class);
    private static final String[] REDIS = {"workflow.worker.redis.url=" + TestRedis.server().uri(),
        "workflow.worker.poll-interval=100ms", "workflow.worker.worker-count=1"};

    private final WebApplicationContextRunner runner = new WebApplicationContextRunner()
            .withConfiguration(CONFIGURATIONS).withUserConfiguration(Handler.class).withPropertyValues(REDIS);

    @Configuration(proxyBeanMethods = false)
    static class Handler {
        @Bean
        Object ticketHandler() {
            return new Object() {
                @WorkflowHandler("TICKET_CREATED")
                void created(EventContext ctx) {
                }
            };
        }
    }

    @Test
    void nothingIsMountedUnlessEnabled() {
        runner.run(context -> {
            assertNull(context.getStartupFailure());
            assertFalse(context.containsBean(REGISTRATION_BEAN_NAME));
            assertTrue(context.getBeansOfType(Dashboard.class).isEmpty());
            assertTrue(context.getBeansOfType(WorkflowAdmin.class).isEmpty());
        });
        runner.withPropertyValues("workflow.worker.dashboard.enabled=false")
                .run(context -> assertTrue(context.getBeansOfType(ServletRegistrationBean.class).isEmpty()));
    }

    @Test
    void nothingIsMountedOutsideAServletApplication() {
        new ApplicationContextRunner().withConfiguration(CONFIGURATIONS).withUserConfiguration(Handler.class)
                .withPropertyValues(REDIS).withPropertyValues("workflow.worker.dashboard.enabled=true")
                .run(context -> {
                    assertNull(context.getStartupFailure());
                    assertTrue(context.getBeansOfType(Dashboard.class).isEmpty());
                    assertFalse(context.containsBean(REGISTRATION_BEAN_NAME));
                });
    }

    @Test
    void enabledItIsMountedAtDashboardReadOnlyAndReadsTheServicesStream() {
        String stream = TestRedis.stream("dashboard");
        runner.withPropertyValues("workflow.worker.dashboard.enabled=true", "workflow.worker.redis.stream=" + stream)
                .run(context -> {
                    assertNull(context.getStartupFailure());
                    ServletRegistrationBean<?> registration = registration(context.getBean(REGISTRATION_BEAN_NAME));
                    assertEquals(Set.of("/dashboard", "/dashboard/*"), Set.copyOf(registration.getUrlMappings()));
                    assertTrue(registration.getServlet() instanceof DashboardServlet);
                    Dashboard dashboard = context.getBean(Dashboard.class);
                    assertFalse(dashboard.actionsEnabled(), "read-only unless asked");
                    // creates the stream and group, as the application would when ready
                    context.getBean(WorkerServiceLifecycle.class).onApplicationEvent(null);
                    String overview = get(dashboard, "/api/overview");
                    assertTrue(overview.contains("\"stream\":\"" + stream + "\""),
                            "the admin reads the service's own stream: " + overview);
                    assertTrue(overview.contains("\"deadLetterSearch\":true"), overview);
                    assertTrue(overview.contains("\"instanceId\":\"" + context.getBean(
                            dev.workflowworker.core.WorkerService.class).instanceId() + "\""), overview);
                });
    }

    @Test
    void thePathIsRespectedWithOrWithoutATrailingSlash() {
        for (String path : List.of("/ops/queue", "/ops/queue/")) {
            runner.withPropertyValues("workflow.worker.dashboard.enabled=true", "workflow.worker.dashboard.path=" + path)
                    .run(context -> assertEquals(Set.of("/ops/queue", "/ops/queue/*"),
                            Set.copyOf(registration(context.getBean(REGISTRATION_BEAN_NAME)).getUrlMappings())));
        }
    }

    @Test
    void anInvalidPathFailsTheContextNamingIt() {
        for (String path : List.of("dashboard", "/", "/dash/*")) {
            runner.withPropertyValues("workflow.worker.dashboard.enabled=true", "workflow.worker.dashboard.path=" + path)
                    .run(context -> {
                        String message = rootMessage(context.getStartupFailure());
                        assertTrue(message.contains("workflow.worker.dashboard.path=" + path + " is invalid"), message);
                    });
        }
    }

    @Test
    void actionsWithoutTokenOrHostAuthenticationFailTheContextNamingTheProperties() {
        runner.withPropertyValues("workflow.worker.dashboard.enabled=true", "workflow.worker.dashboard.actions=true")
                .run(context -> {
                    String message = rootMessage(context.getStartupFailure());
                    assertTrue(message.contains("workflow.worker.dashboard.actions=true is invalid"), message);
                    assertTrue(message.contains("workflow.worker.dashboard.token"), message);
                    assertTrue(message.contains("workflow.worker.dashboard.trust-host-authentication=true"), message);
                });
        runner.withPropertyValues("workflow.worker.dashboard.enabled=true", "DASHBOARD_ACTIONS=true")
                .run(context -> {
                    String message = rootMessage(context.getStartupFailure());
                    assertTrue(message.contains("DASHBOARD_ACTIONS=true is invalid"), "names where it came from: " + message);
                });
    }

    @Test
    void aShortTokenFailsTheContextNamingThePropertyWithoutShowingIt() {
        runner.withPropertyValues("workflow.worker.dashboard.enabled=true", "workflow.worker.dashboard.actions=true",
                        "workflow.worker.dashboard.token=short-secret")
                .run(context -> {
                    String message = rootMessage(context.getStartupFailure());
                    assertTrue(message.contains("workflow.worker.dashboard.token=(masked) is invalid"), message);
                    assertFalse(message.contains("short-secret"), message);
                });
    }

    @Test
    void actionsAreEnabledWithATokenFromThePropertyOrTheSeedVariablesOrWithHostAuthentication() {
        runner.withPropertyValues("workflow.worker.dashboard.enabled=true", "workflow.worker.dashboard.actions=true",
                        "workflow.worker.dashboard.token=0123456789abcdef")
                .run(context -> assertTrue(context.getBean(Dashboard.class).actionsEnabled()));
        // what the serve host reads, as an environment would give it
        runner.withPropertyValues("workflow.worker.dashboard.enabled=true", "DASHBOARD_ACTIONS=true",
                        "DASHBOARD_TOKEN=0123456789abcdef")
                .run(context -> assertTrue(context.getBean(Dashboard.class).actionsEnabled()));
        runner.withPropertyValues("workflow.worker.dashboard.enabled=true", "DASHBOARD_ACTIONS=true",
                        "DASHBOARD_TOKEN=0123456789abcdef", "workflow.worker.dashboard.actions=false")
                .run(context -> assertFalse(context.getBean(Dashboard.class).actionsEnabled(), "the property wins"));
        runner.withPropertyValues("workflow.worker.dashboard.enabled=true", "workflow.worker.dashboard.actions=true",
                        "workflow.worker.dashboard.trust-host-authentication=true")
                .run(context -> assertTrue(context.getBean(Dashboard.class).actionsEnabled()));
        runner.withPropertyValues("workflow.worker.dashboard.enabled=true", "DASHBOARD_ACTIONS=true",
                        "DASHBOARD_TOKEN=0123456789abcdef", "workflow.worker.seed-variables=false")
                .run(context -> assertFalse(context.getBean(Dashboard.class).actionsEnabled(),
                        "seed variables switched off"));
    }

    @Test
    void anInvalidBuilderSettingFailsTheContextNamingIt() {
        runner.withPropertyValues("workflow.worker.dashboard.enabled=true", "workflow.worker.dashboard.search-budget=5")
                .run(context -> {
                    String message = rootMessage(context.getStartupFailure());
                    assertTrue(message.contains("workflow.worker.dashboard.search-budget=5 is invalid"), message);
                });
    }

    @Test
    void onAnotherTransportThereIsNoAdminAndThePageShowsTheServiceOnly() {
        runner.withPropertyValues("workflow.worker.dashboard.enabled=true")
                .withBean(EventTransport.class, InMemoryEventTransport::create)
                .run(context -> {
                    assertNull(context.getStartupFailure());
                    assertTrue(context.getBeansOfType(WorkflowAdmin.class).isEmpty());
                    String overview = get(context.getBean(Dashboard.class), "/api/overview");
                    assertTrue(overview.contains("\"deadLetterSearch\":false"), "no dead letters without an admin: " + overview);
                });
    }

    @Test
    void theHostsOwnBeansReplaceTheConfiguredOnes() {
        runner.withPropertyValues("workflow.worker.dashboard.enabled=true")
                .withBean(REGISTRATION_BEAN_NAME, ServletRegistrationBean.class, ServletRegistrationBean::new)
                .run(context -> {
                    assertNull(context.getStartupFailure());
                    assertTrue(registration(context.getBean(REGISTRATION_BEAN_NAME)).getUrlMappings().isEmpty(),
                            "the host's registration, not ours");
                });
        runner.withPropertyValues("workflow.worker.dashboard.enabled=true")
                .withUserConfiguration(HostDashboard.class)
                .run(context -> {
                    assertNull(context.getStartupFailure());
                    assertEquals(List.of("hostDashboard"), List.of(context.getBeanNamesForType(Dashboard.class)));
                    assertTrue(context.getBean(Dashboard.class).actionsEnabled(), "the host's settings, mounted");
                    assertTrue(context.containsBean(REGISTRATION_BEAN_NAME));
                });
    }

    /** A host that builds its own dashboard. */
    @Configuration(proxyBeanMethods = false)
    static class HostDashboard {
        @Bean
        Dashboard hostDashboard(dev.workflowworker.core.WorkerService service) {
            return Dashboard.builder().service(service).actionsEnabled(true).trustHostAuthentication(true).build();
        }
    }

    private static ServletRegistrationBean<?> registration(Object bean) {
        return (ServletRegistrationBean<?>) bean;
    }

    private static String get(Dashboard dashboard, String path) {
        DashboardResponse response = dashboard.handle(new DashboardRequest("GET", path, "/dashboard" + path, Map.of(),
                Map.of(), "", null, null));
        String body = new String(response.body(), StandardCharsets.UTF_8);
        assertEquals(200, response.status(), body);
        return body;
    }
}
