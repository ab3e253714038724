package dev.workflowworker.redis.chaos;

import dev.workflowworker.api.DelayedEvents;
import dev.workflowworker.api.EventContext;
import dev.workflowworker.api.EventOutcome;
import dev.workflowworker.api.WorkerListener;
import dev.workflowworker.core.ActionRuntime;
import dev.workflowworker.core.WorkerService;
import dev.workflowworker.core.schedule.Schedule;
import dev.workflowworker.redis.RedisErrorClassifier;
import dev.workflowworker.redis.RedisEventTransport;
import dev.workflowworker.redis.RedisOptions;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A worker process of the occurrence chaos run ({@link OccurrenceChaosRun}). Its handlers write a
 * ledger of their own, one line per record in a file of this process, appended with one write
 * each: a killed process loses nothing it wrote, and the ledger does not depend on the Redis the
 * run restarts. Records, tab-separated ({@link OccurrenceLedger} reads them):
 * <pre>
 *   S pid eventId startMillis dueAt scheduledAt attempt   a handler started (dueAt, scheduledAt: the headers, or -)
 *   E pid eventId endMillis                               the handler's effect, just before it returns
 *   C pid eventId deliveryId atMillis                     the outcome SUCCEEDED (after the commit)
 *   D pid eventId deliveryId                              the outcome DUPLICATE: a redelivery recognised, not run
 * </pre>
 * Ready when the file holds a line {@code R pid}. Runs until killed or until its standard input closes.
 *
 * <p>Arguments: Redis URI, ledger directory, partitions, partition lease TTL ms, replicas every write
 * waits for (0 for none).
 */
public final class OccurrenceWorkerMain {

    static final String TICK = "TICK";
    static final String DELAYED = "DELAYED";

    private OccurrenceWorkerMain() {
    }

    public static void main(String[] args) throws Exception {
        String uri = args[0];
        Path dir = Path.of(args[1]);
        int partitions = Integer.parseInt(args[2]);
        Duration leaseTtl = Duration.ofMillis(Long.parseLong(args[3]));
        int waitReplicas = args.length > 4 ? Integer.parseInt(args[4]) : 0;
        String pid = Long.toString(ProcessHandle.current().pid());
        Files.createDirectories(dir);
        try (FileOutputStream out = new FileOutputStream(dir.resolve("ledger-" + pid + ".tsv").toFile(), true)) {
            Ledger ledger = new Ledger(out, pid);
            ActionRuntime runtime = ActionRuntime.builder()
                    .on(TICK, ctx -> work(ledger, ctx))
                    .on(DELAYED, ctx -> work(ledger, ctx))
                    .build();
            RedisOptions.Builder ob = RedisOptions.builder().uri(uri).partitions(partitions).partitionLeaseTtl(leaseTtl);
            if (waitReplicas > 0) {
                ob.waitForReplicas(waitReplicas, Duration.ofSeconds(1));
            }
            RedisOptions options = ob.build();
            try (WorkerService service = WorkerService.builder()
                    .transport(RedisEventTransport.create(options))
                    .runtime(runtime)
                    .errorClassifier(RedisErrorClassifier.INSTANCE)
                    .workerCount(2)
                    .concurrencyLimit(8)
                    .batchSize(16)
                    .pollInterval(Duration.ofMillis(200))
                    .lockTtl(leaseTtl.dividedBy(2))
                    .initialBackoff(Duration.ofMillis(100))
                    .maxBackoff(Duration.ofSeconds(1))
                    .listener(new WorkerListener() {
                        @Override
                        public void onOutcome(EventOutcome o) {
                            if (o.event() == null) {
                                return;
                            }
                            if (o.kind() == EventOutcome.Kind.SUCCEEDED) {
                                ledger.write("C", o.event().eventId(), o.deliveryId(), Long.toString(System.currentTimeMillis()));
                            } else if (o.kind() == EventOutcome.Kind.DUPLICATE) {
                                ledger.write("D", o.event().eventId(), o.deliveryId());
                            }
                        }
                    })
                    .build()) {
                service.start();
                ledger.write("R");
                while (System.in.read() != -1) {
                    // Runs until the orchestrator closes stdin or kills the process.
                }
            }
        }
    }

    private static void work(Ledger ledger, EventContext ctx) throws InterruptedException {
        long start = System.currentTimeMillis();
        var headers = ctx.event().headers();
        ledger.write("S", ctx.event().eventId(), Long.toString(start), millis(headers.get(DelayedEvents.DUE_AT_HEADER)),
                millis(headers.get(Schedule.SCHEDULED_AT_HEADER)), Integer.toString(ctx.attempt()));
        // The handler's own work time: a kill must be able to land inside a handler.
        Thread.sleep(ThreadLocalRandom.current().nextInt(20));
        ctx.throwIfCancelled();
        ledger.write("E", ctx.event().eventId(), Long.toString(System.currentTimeMillis()));
    }

    private static String millis(String instant) {
        return instant == null ? "-" : Long.toString(java.time.Instant.parse(instant).toEpochMilli());
    }

    /** Appends whole lines, one write each, so a kill never leaves half a record behind another. */
    private record Ledger(FileOutputStream out, String pid) {
        synchronized void write(String kind, String... fields) {
            StringBuilder b = new StringBuilder(kind).append('\t').append(pid);
            for (String f : fields) {
                b.append('\t').append(f);
            }
            try {
                out.write(b.append('\n').toString().getBytes(StandardCharsets.UTF_8));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
