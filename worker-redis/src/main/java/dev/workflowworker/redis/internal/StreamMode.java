package dev.workflowworker.redis.internal;

import dev.workflowworker.api.DelayedEvents;
import dev.workflowworker.api.PartitionOwnership;
import dev.workflowworker.api.RetryHolds;
import dev.workflowworker.api.StreamStats;
import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.api.spi.EventTransport;
import dev.workflowworker.api.spi.LockProvider;
import dev.workflowworker.core.schedule.Schedules;
import dev.workflowworker.redis.RedisUnavailableException;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * How a transport lays its stream out and reads it: one stream shared through a consumer group,
 * or P partition streams, each read as a log by its one owner (docs/ARCHITECTURE.md, "Ordered
 * processing"). Chosen once, when the transport is created; everything that differs between the
 * two lives behind this interface.
 */
public interface StreamMode extends AutoCloseable {

    /**
     * Checks the stream's layout in Redis against the options and sets up what reading needs.
     *
     * @throws IllegalStateException if the stream was laid out in the other mode or with another count
     * @throws RedisUnavailableException if Redis cannot be reached yet
     */
    void start();

    /** {@return the stream an event is written to} */
    String streamOf(WorkflowEvent event);

    /**
     * {@return the fields an entry of {@code encoded} is written with}: named as encoded, or a
     * partition's compact form (docs/ARCHITECTURE.md, "The wire contract").
     */
    default Map<String, String> entry(Map<String, String> encoded) {
        return encoded;
    }

    /** Writes encoded events in order, returning their entry ids. */
    List<String> publishAll(List<WorkflowEvent> events, List<Map<String, String>> encoded);

    EventTransport.Consumer openConsumer(String consumerName);

    Optional<LockProvider> lockProvider();

    /** {@return whether the mode hands out each key's events one at a time itself (see EventTransport#locksKeysItself)} */
    boolean locksKeysItself();

    Optional<PartitionOwnership> ownership();

    Optional<RetryHolds> retryHolds();

    /** {@return the partitions this process owns now, empty for one shared stream} */
    List<Integer> ownedPartitions();

    StreamStats stats();

    /** Returns due retries to the stream now; returns how many moved. */
    int moveDueRetries();

    /** Removes settled entries now; returns how many went. */
    long trim();

    /** {@return the events this mode keeps until a due time, or empty when it keeps none} */
    default Optional<DelayedEvents> delayed() {
        return Optional.empty();
    }

    /** {@return the recurring schedules this mode keeps, or empty when it keeps none} */
    default Optional<Schedules> schedules() {
        return Optional.empty();
    }

    /** Stops reading: closes the consumers and hands over what this process owns. */
    @Override
    void close();
}
