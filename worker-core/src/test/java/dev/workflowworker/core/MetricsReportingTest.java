package dev.workflowworker.core;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.core.testing.Await;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertTrue;

class MetricsReportingTest {

    @Test
    void logsOneMetricsLinePerIntervalWithCountersRateAndPercentiles() {
        Logger logger = (Logger) LoggerFactory.getLogger(WorkerService.class);
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.start();
        logger.addAppender(appender);
        try (WorkerService s = WorkerService.builder().runtime(ctx -> { }).workerCount(1)
                .pollInterval(Duration.ofMillis(20)).metricsReportingInterval(Duration.ofMillis(100)).build()) {
            s.start();
            for (int i = 0; i < 50; i++) {
                s.publisher().publish(WorkflowEvent.builder("T").build());
            }
            Await.until(Duration.ofSeconds(20), () -> appender.list.stream()
                    .map(ILoggingEvent::getFormattedMessage)
                    .anyMatch(m -> m.startsWith("metrics:") && m.contains("processed=50 ")),
                    () -> "a metrics line counting 50 events; got " + appender.list);
        } finally {
            logger.detachAppender(appender);
        }
        String line = appender.list.stream().map(ILoggingEvent::getFormattedMessage)
                .filter(m -> m.startsWith("metrics:") && m.contains("processed=50 ")).findFirst().orElseThrow();
        for (String key : new String[] {"succeeded=50", "failed=0", "retried=0", "deadLettered=0", "duplicates=0",
                "rate=", "/s", "p50=", "p99=", "status="}) {
            assertTrue(line.contains(key), key + " missing from: " + line);
        }
    }
}
