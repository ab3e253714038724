package dev.workflowworker.core.internal;

import dev.workflowworker.api.Lock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Renews held leases from a dedicated scheduler, so a saturated handler pool can never starve
 * renewal. When a renewal reports the lease lost, or renewals keep failing until the lease must
 * have expired, the handler's context is cancelled at once.
 */
public final class LockWatchdog {

    private static final Logger log = LoggerFactory.getLogger(LockWatchdog.class);

    private final ScheduledExecutorService scheduler;
    private final Duration ttl;
    private final Clock clock;
    private final Runnable onInfraError;

    /**
     * @param scheduler    the dedicated renewal scheduler
     * @param ttl          the lease duration
     * @param clock        the clock
     * @param onInfraError told when a renewal could not reach the lock store
     */
    public LockWatchdog(ScheduledExecutorService scheduler, Duration ttl, Clock clock, Runnable onInfraError) {
        this.scheduler = scheduler;
        this.ttl = ttl;
        this.clock = clock;
        this.onInfraError = onInfraError;
    }

    /**
     * Starts renewing {@code lock} every third of the TTL until the returned handle is cancelled.
     *
     * @param lock    the held lock
     * @param context the context to cancel when the lease is lost
     * @return the renewal task; cancel it when the handler is done
     */
    public ScheduledFuture<?> watch(Lock lock, DefaultEventContext context) {
        long period = Math.max(1, ttl.toMillis() / 3);
        long[] lastRenewed = {clock.millis()};
        return scheduler.scheduleAtFixedRate(() -> renew(lock, context, lastRenewed), period, period,
                TimeUnit.MILLISECONDS);
    }

    private void renew(Lock lock, DefaultEventContext context, long[] lastRenewed) {
        if (context.isLeaseLost()) {
            return;
        }
        try {
            if (lock.renew(ttl)) {
                lastRenewed[0] = clock.millis();
            } else {
                log.warn("lease on lock key {} was lost (fencing token {}); cancelling its handler",
                        lock.key(), lock.fencingToken());
                context.leaseLost();
            }
        } catch (RuntimeException e) {
            onInfraError.run();
            // Past the TTL since the last good renewal the lease is gone, whatever the store says later.
            if (clock.millis() - lastRenewed[0] >= ttl.toMillis()) {
                log.warn("could not renew lock key {} for a whole TTL; treating the lease as lost", lock.key(), e);
                context.leaseLost();
            } else {
                log.debug("renewal of lock key {} failed; will retry", lock.key(), e);
            }
        }
    }
}
