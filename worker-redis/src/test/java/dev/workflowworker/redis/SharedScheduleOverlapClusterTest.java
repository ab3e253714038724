package dev.workflowworker.redis;

import dev.workflowworker.core.ActionRuntime;
import dev.workflowworker.core.WorkerService;
import dev.workflowworker.core.schedule.Schedule;
import dev.workflowworker.core.schedule.Schedules;
import dev.workflowworker.core.testing.Await;
import dev.workflowworker.redis.testsupport.SpawnedCluster;
import dev.workflowworker.redis.testsupport.SpawnedRedisCluster;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The overlap policy of a schedule on the shared stream of a Redis Cluster: whether the last
 * occurrence finished is read from its processed and dead markers, two keys that hash to
 * different slots.
 */
@SpawnedCluster
class SharedScheduleOverlapClusterTest {

    private static SpawnedRedisCluster cluster;
    private final List<WorkerService> services = new ArrayList<>();
    private final List<String> ledger = new CopyOnWriteArrayList<>();

    @AfterEach
    void close() {
        services.forEach(WorkerService::close);
        cluster.flush();
    }

    @Test
    void aSkipScheduleGoesOnOnceItsSlowOccurrenceFinished() {
        CountDownLatch release = new CountDownLatch(1);
        List<String> started = new CopyOnWriteArrayList<>();
        RedisEventTransport t = RedisEventTransport.create(
                cluster.options().stream("cluster:shared-skip").partitions(0).build());
        WorkerService s = WorkerService.builder().transport(t).lockProvider(t.locks())
                .runtime(ActionRuntime.builder().on("TICK", ctx -> {
                    started.add(ctx.event().eventId());
                    if (started.size() == 1) {
                        try {
                            release.await(30, TimeUnit.SECONDS);
                        } catch (InterruptedException ex) {
                            Thread.currentThread().interrupt();
                        }
                    }
                    ledger.add(ctx.event().eventId());
                }).build())
                .workerCount(2).pollInterval(Duration.ofMillis(200)).build();
        services.add(s);
        s.start();
        Schedules schedules = s.schedules().orElseThrow();
        schedules.put(Schedule.every("slow", Duration.ofSeconds(1)).eventType("TICK")
                .overlap(Schedule.Overlap.SKIP).build());
        Await.until(Duration.ofSeconds(15), () -> schedules.get("slow").orElseThrow().skipped() >= 2,
                () -> "skipped while the first runs: " + schedules.get("slow"));
        assertEquals(1, started.size(), "nothing started beside the first: " + started);
        release.countDown();
        Await.until(Duration.ofSeconds(15), () -> ledger.size() >= 2,
                () -> "went on after the first finished: " + ledger + ", " + schedules.get("slow"));
        schedules.pause("slow");
    }
}
