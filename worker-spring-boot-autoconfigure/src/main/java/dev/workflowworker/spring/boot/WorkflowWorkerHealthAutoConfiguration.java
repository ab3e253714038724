package dev.workflowworker.spring.boot;

import dev.workflowworker.core.WorkerService;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The {@code workflowWorker} health contributor: healthy and degraded workers are {@code UP} with
 * the health snapshot as details, unhealthy ones {@code DOWN}; a service not started yet is
 * {@code UNKNOWN}, a stopping one {@code OUT_OF_SERVICE}. Boot 3 and Boot 4 keep
 * {@code HealthIndicator} in different packages, so each has its own configuration, chosen by
 * which one is on the classpath. {@code management.health.workflow-worker.enabled=false} turns it off.
 */
@AutoConfiguration(after = WorkflowWorkerAutoConfiguration.class)
@ConditionalOnBean(WorkerService.class)
@ConditionalOnProperty(prefix = "management.health.workflow-worker", name = "enabled", matchIfMissing = true)
public class WorkflowWorkerHealthAutoConfiguration {

    /** The bean name; Boot names the contributor after it, less the suffix: {@code workflowWorker}. */
    public static final String BEAN_NAME = "workflowWorkerHealthIndicator";

    /** Creates the auto-configuration; Spring calls it. */
    public WorkflowWorkerHealthAutoConfiguration() {
    }

    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = "org.springframework.boot.actuate.health.HealthIndicator")
    static class Boot3 {

        @Bean(name = BEAN_NAME)
        @ConditionalOnMissingBean(name = BEAN_NAME)
        Boot3HealthIndicator workflowWorkerHealthIndicator(WorkerService service) {
            return new Boot3HealthIndicator(service);
        }
    }

    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = "org.springframework.boot.health.contributor.HealthIndicator")
    static class Boot4 {

        @Bean(name = BEAN_NAME)
        @ConditionalOnMissingBean(name = BEAN_NAME)
        Boot4HealthIndicator workflowWorkerHealthIndicator(WorkerService service) {
            return new Boot4HealthIndicator(service);
        }
    }
}
