package dev.workflowworker.spring.boot;

import dev.workflowworker.core.WorkerService;
import dev.workflowworker.micrometer.WorkflowWorkerMetrics;
import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;

/**
 * Binds {@link WorkflowWorkerMetrics} to the context's meter registries: it is a
 * {@code MeterBinder} bean, which Boot (3 and 4) binds to every registry it manages before the
 * workers start, so the counters see every outcome.
 */
@AutoConfiguration(after = WorkflowWorkerAutoConfiguration.class)
@ConditionalOnClass({MeterRegistry.class, WorkflowWorkerMetrics.class})
@ConditionalOnBean(WorkerService.class)
public class WorkflowWorkerMetricsAutoConfiguration {

    /** Creates the auto-configuration; Spring calls it. */
    public WorkflowWorkerMetricsAutoConfiguration() {
    }

    /**
     * The binder; closed with the context, which removes its listeners and meters.
     *
     * @param service the service
     * @return the binder
     */
    @Bean
    @ConditionalOnMissingBean
    public WorkflowWorkerMetrics workflowWorkerMetrics(WorkerService service) {
        return new WorkflowWorkerMetrics(service);
    }
}
