package dev.workflowworker.spring.boot;

import dev.workflowworker.api.ErrorClassifier;
import dev.workflowworker.api.EventPublisher;
import dev.workflowworker.api.WorkerListener;
import dev.workflowworker.api.WorkflowRuntime;
import dev.workflowworker.api.spi.EventTransport;
import dev.workflowworker.core.WorkerConfig;
import dev.workflowworker.core.WorkerService;
import dev.workflowworker.redis.RedisEventTransport;
import dev.workflowworker.redis.RedisOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Primary;
import org.springframework.core.env.Environment;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Auto-configures a {@link WorkerService} on Redis (when worker-redis is present) from the
 * {@code workflow.worker.*} properties, with a runtime made of the context's
 * {@link WorkflowHandler} methods and {@code WorkflowAction} beans, every {@link WorkerListener}
 * and {@link ErrorClassifier} bean, and every {@link WorkerServiceCustomizer}. The service starts
 * when the application is ready and drains in the graceful-shutdown phase
 * ({@link WorkerServiceLifecycle}). Each bean backs off when the host defines one of its type.
 * {@code workflow.worker.enabled=false} switches all of it off.
 */
@AutoConfiguration
@ConditionalOnClass(WorkerService.class)
@ConditionalOnProperty(prefix = "workflow.worker", name = "enabled", matchIfMissing = true)
@EnableConfigurationProperties(WorkflowWorkerProperties.class)
public class WorkflowWorkerAutoConfiguration {

    private static final Logger log = LoggerFactory.getLogger(WorkflowWorkerAutoConfiguration.class);

    /**
     * Creates the auto-configuration; Spring calls it.
     *
     * @throws UnsupportedDependencyVersionException if Boot's dependency management put a library
     *     version on the class path older than the oldest one the workers are tested with
     */
    public WorkflowWorkerAutoConfiguration() {
        // before any bean touches them: an unusable version fails the start, not the first event
        UnsupportedDependencyVersionException.requireSupportedVersions();
    }

    /**
     * The engine settings: {@code workflow.worker.*}, then the seed variables, then the defaults.
     *
     * @param properties  the bound properties
     * @param environment where seed variables are looked up
     * @return the settings
     */
    @Bean
    @ConditionalOnMissingBean
    public WorkerConfig workflowWorkerConfig(WorkflowWorkerProperties properties, Environment environment) {
        return Settings.workerConfig(properties, environment);
    }

    /**
     * The runtime routing each event type to its {@link WorkflowHandler}, checked when every
     * singleton exists.
     *
     * @param beanFactory where handlers are looked up
     * @param properties  the required event types, and those of the declared schedules
     * @return the runtime
     */
    @Bean
    @ConditionalOnMissingBean(WorkflowRuntime.class)
    public WorkflowRuntime workflowHandlerRuntime(ConfigurableListableBeanFactory beanFactory,
                                                  WorkflowWorkerProperties properties) {
        Map<String, String> required = new LinkedHashMap<>();
        properties.requiredEventTypes().forEach(t -> required.putIfAbsent(t, "workflow.worker.required-event-types"));
        // a declared schedule's occurrences come back to this application's workers: a handler must take them
        new TreeMap<>(properties.schedules() == null ? Map.of() : properties.schedules()).forEach((id, d) -> {
            if (d.eventType() != null && !d.eventType().isBlank()) {
                required.putIfAbsent(d.eventType(), "workflow.worker.schedules." + id + ".event-type");
            }
        });
        return new HandlerRuntime(beanFactory, required);
    }

    /**
     * The service, built but not started; the lifecycle starts it. It owns and closes the transport.
     *
     * @param config      the engine settings
     * @param runtime     the runtime
     * @param transport   the transport; the in-memory one when there is none
     * @param listeners   listener beans
     * @param classifiers error classifier beans, in order
     * @param customizers customizer beans, in order
     * @param environment for {@code spring.threads.virtual.enabled}
     * @return the service
     */
    @Bean
    @ConditionalOnMissingBean
    public WorkerService workflowWorkerService(WorkerConfig config, WorkflowRuntime runtime,
                                               ObjectProvider<EventTransport> transport,
                                               ObjectProvider<WorkerListener> listeners,
                                               ObjectProvider<ErrorClassifier> classifiers,
                                               ObjectProvider<WorkerServiceCustomizer> customizers,
                                               Environment environment) {
        WorkerService.Builder b = WorkerService.builder().config(config);
        EventTransport t = transport.getIfAvailable();
        if (t != null) {
            b.transport(t);
        } else {
            log.warn("no EventTransport bean and worker-redis is not on the classpath: events stay in this process "
                    + "(in-memory transport)");
        }
        listeners.orderedStream().forEach(b::listener);
        classifiers.orderedStream().forEach(b::errorClassifier);
        if (VirtualThreads.requested(environment)) {
            b.executor(VirtualThreads.executor());
        }
        List<WorkerServiceCustomizer> all = customizers.orderedStream().toList();
        WorkflowRuntime decorated = runtime;
        for (WorkerServiceCustomizer c : all) {
            decorated = c.decorateRuntime(decorated);
        }
        b.runtime(decorated);
        all.forEach(c -> c.customize(b));
        return b.build();
    }

    /**
     * Starts the service when the application is ready and drains it at shutdown.
     *
     * @param service    the service
     * @param properties {@code workflow.worker.auto-startup}
     * @return the lifecycle
     */
    @Bean
    @ConditionalOnMissingBean
    public WorkerServiceLifecycle workflowWorkerLifecycle(WorkerService service, WorkflowWorkerProperties properties) {
        return new WorkerServiceLifecycle(service, properties.autoStartup());
    }

    /**
     * Creates or updates the schedules declared under {@code workflow.worker.schedules.<id>.*}
     * when the application is ready; checks them now.
     *
     * @param service     the service whose transport keeps them
     * @param properties  the declarations
     * @param environment for {@code spring.application.name}
     * @return the declarations
     */
    @Bean
    @ConditionalOnMissingBean
    public DeclaredSchedules workflowDeclaredSchedules(WorkerService service, WorkflowWorkerProperties properties,
                                                       Environment environment) {
        return new DeclaredSchedules(service, properties, environment);
    }

    /**
     * Publishes onto the service's stream (traced, when tracing is on). Primary, because the
     * transport bean is an {@code EventPublisher} too (an untraced one); a host's own publisher
     * bean replaces it and should then be primary itself.
     *
     * @param service     the service
     * @param customizers decorators of the publisher
     * @return the publisher
     */
    @Bean
    @Primary
    @ConditionalOnMissingBean(value = EventPublisher.class, ignored = EventTransport.class)
    public EventPublisher workflowEventPublisher(WorkerService service, ObjectProvider<WorkerServiceCustomizer> customizers) {
        EventPublisher publisher = service.publisher();
        for (WorkerServiceCustomizer c : customizers.orderedStream().toList()) {
            publisher = c.decoratePublisher(publisher);
        }
        return publisher;
    }

    /** The Redis transport, when worker-redis is on the classpath. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(RedisEventTransport.class)
    static class RedisTransportConfiguration {

        @Bean
        @ConditionalOnMissingBean
        RedisOptions workflowRedisOptions(WorkflowWorkerProperties properties, Environment environment) {
            return RedisSettings.redisOptions(properties, environment);
        }

        // Not closed by Spring: the WorkerService owns its transport and closes it when it terminates.
        @Bean(destroyMethod = "")
        @ConditionalOnMissingBean
        EventTransport workflowEventTransport(RedisOptions options) {
            return RedisEventTransport.create(options);
        }
    }
}
