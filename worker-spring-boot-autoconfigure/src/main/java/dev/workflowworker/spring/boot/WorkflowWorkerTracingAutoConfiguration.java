package dev.workflowworker.spring.boot;

import dev.workflowworker.api.EventPublisher;
import dev.workflowworker.api.WorkflowRuntime;
import dev.workflowworker.api.spi.EventTransport;
import dev.workflowworker.core.WorkerService;
import dev.workflowworker.opentelemetry.WorkflowTracing;
import io.opentelemetry.api.GlobalOpenTelemetry;
import io.opentelemetry.api.OpenTelemetry;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;

import java.util.Locale;

/**
 * Traces publishing and processing ({@link WorkflowTracing}) when OpenTelemetry and
 * worker-opentelemetry are on the classpath, with the context's {@link OpenTelemetry} bean, or else
 * {@link GlobalOpenTelemetry} (the Java agent's). {@code workflow.worker.tracing.enabled=false}
 * turns it off; {@code workflow.worker.tracing.relation=LINK} links attempts to the producer
 * instead of parenting them.
 */
@AutoConfiguration(before = WorkflowWorkerAutoConfiguration.class)
@ConditionalOnClass({OpenTelemetry.class, WorkflowTracing.class, WorkerService.class})
@ConditionalOnProperty(prefix = "workflow.worker.tracing", name = "enabled", matchIfMissing = true)
public class WorkflowWorkerTracingAutoConfiguration {

    /** Creates the auto-configuration; Spring calls it. */
    public WorkflowWorkerTracingAutoConfiguration() {
    }

    /**
     * Wraps the runtime and the publisher and adds the tracing listener.
     *
     * @param openTelemetry the context's OpenTelemetry, if any
     * @param transport     for the stream name (the spans' destination)
     * @param properties    the relation setting
     * @return the customizer
     */
    @Bean
    @ConditionalOnMissingBean(name = "workflowTracingCustomizer")
    public WorkerServiceCustomizer workflowTracingCustomizer(ObjectProvider<OpenTelemetry> openTelemetry,
                                                             ObjectProvider<EventTransport> transport,
                                                             WorkflowWorkerProperties properties) {
        return new TracingCustomizer(openTelemetry, transport, properties);
    }

    /** Builds the tracing when the service is built, once the transport (and its stream) is known. */
    static final class TracingCustomizer implements WorkerServiceCustomizer {
        private final ObjectProvider<OpenTelemetry> openTelemetry;
        private final ObjectProvider<EventTransport> transport;
        private final WorkflowWorkerProperties properties;
        private volatile WorkflowTracing tracing;

        TracingCustomizer(ObjectProvider<OpenTelemetry> openTelemetry, ObjectProvider<EventTransport> transport,
                          WorkflowWorkerProperties properties) {
            this.openTelemetry = openTelemetry;
            this.transport = transport;
            this.properties = properties;
        }

        private WorkflowTracing tracing() {
            WorkflowTracing t = tracing;
            if (t == null) {
                synchronized (this) {
                    t = tracing;
                    if (t == null) {
                        WorkflowTracing.Builder b = WorkflowTracing.builder(openTelemetry.getIfAvailable(GlobalOpenTelemetry::get))
                                .relation(relation(properties.tracing().relation()));
                        EventTransport tr = transport.getIfAvailable();
                        if (tr != null) {
                            b.destination(tr.stream());
                        }
                        t = b.build();
                        tracing = t;
                    }
                }
            }
            return t;
        }

        private static WorkflowTracing.Relation relation(String v) {
            try {
                return WorkflowTracing.Relation.valueOf(v.trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException | NullPointerException e) {
                throw new IllegalArgumentException("workflow.worker.tracing.relation=" + v + " is invalid: PARENT or LINK");
            }
        }

        @Override
        public WorkflowRuntime decorateRuntime(WorkflowRuntime runtime) {
            return tracing().runtime(runtime);
        }

        @Override
        public void customize(WorkerService.Builder builder) {
            builder.listener(tracing().listener());
        }

        @Override
        public EventPublisher decoratePublisher(EventPublisher publisher) {
            return tracing().publisher(publisher);
        }
    }
}
