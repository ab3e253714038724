package dev.workflowworker.redis;

import redis.clients.jedis.UnifiedJedis;

import java.util.List;

/** The Lua scripts, loaded once per client. */
final class Scripts {
    final LuaScript reschedule = LuaScript.load("reschedule");
    final LuaScript deadLetter = LuaScript.load("dead_letter");
    final LuaScript moveDue = LuaScript.load("move_due");
    final LuaScript keepAlive = LuaScript.load("keep_alive");
    final LuaScript release = LuaScript.load("release");
    final LuaScript removeIdleConsumers = LuaScript.load("remove_idle_consumers");
    final LuaScript trim = LuaScript.load("trim");
    final LuaScript lockAcquire = LuaScript.load("lock_acquire");
    final LuaScript lockRenew = LuaScript.load("lock_renew");
    final LuaScript lockRelease = LuaScript.load("lock_release");
    final LuaScript lockAcquireAll = LuaScript.load("lock_acquire_all");
    final LuaScript lockReleaseAll = LuaScript.load("lock_release_all");
    final LuaScript completeAll = LuaScript.load("complete_all");
    final LuaScript existsAll = LuaScript.load("exists_all");
    final LuaScript completeRelease = LuaScript.load("complete_release");
    final LuaScript partitionRead = LuaScript.load("partition_read");
    final LuaScript partitionCommit = LuaScript.load("partition_commit");
    final LuaScript partitionOpen = LuaScript.load("partition_open");
    final LuaScript partitionInit = LuaScript.load("partition_init");
    final LuaScript partitionTrim = LuaScript.load("partition_trim");
    final LuaScript partitionHold = LuaScript.load("partition_hold");
    final LuaScript partitionDeadLetter = LuaScript.load("partition_dead_letter");
    final LuaScript leaseAcquire = LuaScript.load("lease_acquire");
    final LuaScript leaseRenew = LuaScript.load("lease_renew");
    final LuaScript leaseRelease = LuaScript.load("lease_release");
    final LuaScript route = LuaScript.load("route");
    final LuaScript publishAll = LuaScript.load("publish_all");

    List<LuaScript> all() {
        return List.of(reschedule, deadLetter, moveDue, keepAlive, release, removeIdleConsumers, trim,
                lockAcquire, lockRenew, lockRelease, lockAcquireAll, lockReleaseAll, completeAll, existsAll, completeRelease,
                partitionRead, partitionCommit, partitionOpen, partitionInit, partitionTrim, partitionHold, partitionDeadLetter, leaseAcquire, leaseRenew,
                leaseRelease, route, publishAll);
    }

    void loadAll(UnifiedJedis redis) {
        for (LuaScript s : all()) {
            s.loadInto(redis);
        }
    }
}
