package dev.workflowworker.core.internal;

import dev.workflowworker.api.ErrorCategory;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

class RetryPolicyTest {

    /** Jitter pinned to its middle (factor 1.0) so delays are exact. */
    private final RetryPolicy policy = new RetryPolicy(3,
            new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(30), () -> 0.5),
            new Backoff(Duration.ofMillis(50), Duration.ofSeconds(1), () -> 0.5));

    @Test
    void permanentFailureIsDeadLetteredAtOnceWithItsOwnMessage() {
        RetryPolicy.Decision d = policy.decide(ErrorCategory.PERMANENT, 1, "bad input", Optional.empty());
        assertEquals(new RetryPolicy.DeadLetter("bad input"), d);
    }

    @Test
    void recoverableFailureBacksOffExponentiallyAndHonoursRetryAfter() {
        assertEquals(new RetryPolicy.RetryLater(Duration.ofSeconds(1)),
                policy.decide(ErrorCategory.RECOVERABLE, 1, "x", Optional.empty()));
        assertEquals(new RetryPolicy.RetryLater(Duration.ofSeconds(4)),
                policy.decide(ErrorCategory.RECOVERABLE, 3, "x", Optional.empty()));
        assertEquals(new RetryPolicy.RetryLater(Duration.ofMillis(1234)),
                policy.decide(ErrorCategory.RECOVERABLE, 2, "x", Optional.of(Duration.ofMillis(1234))));
    }

    @Test
    void transientFailureRetriesInPlaceWithAShortPause() {
        assertEquals(new RetryPolicy.RetryInPlace(Duration.ofMillis(50)),
                policy.decide(ErrorCategory.TRANSIENT, 1, "x", Optional.empty()));
        assertEquals(new RetryPolicy.RetryInPlace(Duration.ofMillis(100)),
                policy.decide(ErrorCategory.TRANSIENT, 2, "x", Optional.empty()));
    }

    @Test
    void everyCategoryCountsTowardMaxRetries() {
        for (ErrorCategory c : new ErrorCategory[] {ErrorCategory.TRANSIENT, ErrorCategory.RECOVERABLE}) {
            assertInstanceOf(RetryPolicy.DeadLetter.class, policy.decide(c, 4, "x", Optional.empty()), c.name());
            assertEquals("retries exhausted after 4 attempts: boom",
                    ((RetryPolicy.DeadLetter) policy.decide(c, 4, "boom", Optional.empty())).reason());
        }
        assertInstanceOf(RetryPolicy.RetryLater.class, policy.decide(ErrorCategory.RECOVERABLE, 3, "x",
                Optional.empty()), "the third retry is still allowed");
    }
}
