package dev.workflowworker.spring.boot;

import dev.workflowworker.core.WorkerService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.ApplicationListener;
import org.springframework.context.SmartLifecycle;

import java.time.Duration;

/**
 * Starts the {@link WorkerService} when the application is ready (after runners, so that nothing
 * is consumed by a half-started application) and drains it in Spring's graceful-shutdown phase:
 * {@link #stop(Runnable)} stops reading, lets in-flight events finish for up to
 * {@code workflow.worker.shutdown-timeout} and hands back what is left, in the same phase as the
 * web server's graceful shutdown. Keep {@code spring.lifecycle.timeout-per-shutdown-phase} at
 * least as long as the shutdown timeout.
 */
public class WorkerServiceLifecycle implements SmartLifecycle, ApplicationListener<ApplicationReadyEvent> {

    /** The phase of Boot's web server graceful shutdown, so that HTTP requests and events drain together. */
    public static final int PHASE = SmartLifecycle.DEFAULT_PHASE - 1024;

    private static final Logger log = LoggerFactory.getLogger(WorkerServiceLifecycle.class);

    private final WorkerService service;
    private final boolean autoStartup;
    private volatile boolean running;

    /**
     * Creates the lifecycle of a service.
     *
     * @param service     the service
     * @param autoStartup whether to start it when the application is ready
     */
    public WorkerServiceLifecycle(WorkerService service, boolean autoStartup) {
        this.service = service;
        this.autoStartup = autoStartup;
    }

    @Override
    public void onApplicationEvent(ApplicationReadyEvent event) {
        if (autoStartup && service.state() == WorkerService.State.NEW) {
            service.start();
        }
    }

    /** Marks the lifecycle running so that Spring stops it; the workers themselves start when the application is ready. */
    @Override
    public void start() {
        running = true;
    }

    @Override
    public void stop() {
        stopAndWait();
    }

    @Override
    public void stop(Runnable callback) {
        // Spring waits for the callback up to its per-phase timeout; other phase members drain meanwhile.
        service.shutdown();
        Thread waiter = new Thread(() -> {
            try {
                stopAndWait();
            } finally {
                callback.run();
            }
        }, "workflow-worker-drain");
        waiter.setDaemon(true);
        waiter.start();
    }

    private void stopAndWait() {
        service.shutdown();
        try {
            Duration wait = service.config().shutdownTimeout().plusSeconds(5);
            if (!service.awaitTermination(wait)) {
                log.warn("workflow-worker did not drain within {} ms", wait.toMillis());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            running = false;
        }
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    @Override
    public boolean isAutoStartup() {
        return true;
    }

    @Override
    public int getPhase() {
        return PHASE;
    }
}
