package dev.workflowworker.spring.boot;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.env.Environment;
import org.springframework.core.task.SimpleAsyncTaskExecutor;

import java.util.concurrent.Executor;

/**
 * {@code spring.threads.virtual.enabled=true} runs handlers on virtual threads, as Boot does for
 * its own executors: on Java 21 and later only; on older Java the property is ignored, as Boot
 * ignores it.
 */
final class VirtualThreads {

    private static final Logger log = LoggerFactory.getLogger(VirtualThreads.class);

    private VirtualThreads() {
    }

    static boolean requested(Environment environment) {
        if (!environment.getProperty("spring.threads.virtual.enabled", Boolean.class, false)) {
            return false;
        }
        if (Runtime.version().feature() < 21) {
            log.info("spring.threads.virtual.enabled=true is ignored on Java {}: handlers run on platform threads",
                    Runtime.version().feature());
            return false;
        }
        return true;
    }

    static Executor executor() {
        SimpleAsyncTaskExecutor executor = new SimpleAsyncTaskExecutor("workflow-handler-");
        // concurrency stays bounded by concurrency-limit: the engine takes a slot before it submits
        executor.setVirtualThreads(true);
        return executor;
    }
}
