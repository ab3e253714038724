package dev.workflowworker.spring.boot;

import dev.workflowworker.redis.RedisOptions;
import org.springframework.core.env.Environment;

import java.security.KeyStore;

/** Builds {@link RedisOptions} from {@code workflow.worker.redis.*} over the seed variables; loaded only with worker-redis present. */
final class RedisSettings {

    private RedisSettings() {
    }

    static RedisOptions redisOptions(WorkflowWorkerProperties props, Environment environment) {
        WorkflowWorkerProperties.Redis r = props.getRedis();
        RedisOptions seeded = RedisOptions.fromEnvironment(SeedVariables.of(environment, props.isSeedVariables()));
        RedisOptions.Builder b = seeded.toBuilder();
        String p = "redis.";
        Settings.set(p + "url", r.getUrl(), b::uri);
        Settings.set(p + "host", r.getHost(), b::host);
        Settings.set(p + "port", r.getPort(), b::port);
        Settings.set(p + "user", r.getUser(), b::user);
        Settings.set(p + "password", r.getPassword(), b::password);
        Settings.set(p + "database", r.getDatabase(), b::database);
        Settings.set(p + "ssl", r.getSsl(), b::ssl);
        if (r.getTrustStore() != null) {
            String password = r.getTrustStorePassword();
            Settings.set(p + "trust-store", r.getTrustStore(), path -> b.trustStore(path,
                    password == null ? null : password.toCharArray(),
                    r.getTrustStoreType() != null ? r.getTrustStoreType() : KeyStore.getDefaultType()));
        }
        Settings.set(p + "key-prefix", r.getKeyPrefix(), b::keyPrefix);
        Settings.set(p + "stream", r.getStream(), b::stream);
        Settings.set(p + "dead-letter-stream", r.getDeadLetterStream(), b::deadLetterStream);
        Settings.set(p + "retry-key", r.getRetryKey(), b::retryKey);
        Settings.set(p + "group", r.getGroup(), b::group);
        Settings.set(p + "group-start-id", r.getGroupStartId(), b::groupStartId);
        Settings.set(p + "connect-timeout", r.getConnectTimeout(), b::connectTimeout);
        Settings.set(p + "socket-timeout", r.getSocketTimeout(), b::socketTimeout);
        Settings.set(p + "pool-size", r.getPoolSize(), b::poolSize);
        Settings.set(p + "processed-ttl", r.getProcessedTtl(), b::processedTtl);
        Settings.set(p + "dead-letter-max-length", r.getDeadLetterMaxLength(), b::deadLetterMaxLength);
        Settings.set(p + "max-payload-bytes", r.getMaxPayloadBytes(), b::maxPayloadBytes);
        Settings.set(p + "retry-poll-interval", r.getRetryPollInterval(), b::retryPollInterval);
        Settings.set(p + "trim-interval", r.getTrimInterval(), b::trimInterval);
        Settings.set(p + "consumer-retention", r.getConsumerRetention(), b::consumerRetention);
        Settings.set(p + "partitions", r.getPartitions(), b::partitions);
        Settings.set(p + "partition-lease-ttl", r.getPartitionLeaseTtl(), b::partitionLeaseTtl);
        Settings.set(p + "wait-replicas", r.getWaitReplicas(), n -> b.waitForReplicas(n,
                r.getWaitTimeout() != null ? r.getWaitTimeout() : seeded.waitTimeout()));
        Settings.set(p + "wait-timeout", r.getWaitTimeout(), t -> b.waitForReplicas(
                r.getWaitReplicas() != null ? r.getWaitReplicas() : seeded.waitReplicas(), t));
        try {
            return b.build();
        } catch (IllegalStateException | IllegalArgumentException e) {
            throw new IllegalArgumentException("workflow.worker.redis.*: " + e.getMessage(), e);
        }
    }

}
