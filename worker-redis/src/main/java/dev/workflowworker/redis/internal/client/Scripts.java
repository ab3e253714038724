package dev.workflowworker.redis.internal.client;

import redis.clients.jedis.UnifiedJedis;

import java.util.List;

/** The Lua scripts, loaded once per client. */
public final class Scripts {
    public final LuaScript reschedule = LuaScript.load("reschedule");
    public final LuaScript deadLetter = LuaScript.load("dead_letter");
    public final LuaScript moveDue = LuaScript.load("move_due");
    public final LuaScript keepAlive = LuaScript.load("keep_alive");
    public final LuaScript release = LuaScript.load("release");
    public final LuaScript removeIdleConsumers = LuaScript.load("remove_idle_consumers");
    public final LuaScript trim = LuaScript.load("trim");
    public final LuaScript lockAcquire = LuaScript.load("lock_acquire");
    public final LuaScript lockRenew = LuaScript.load("lock_renew");
    public final LuaScript lockRelease = LuaScript.load("lock_release");
    public final LuaScript lockAcquireAll = LuaScript.load("lock_acquire_all");
    public final LuaScript lockReleaseAll = LuaScript.load("lock_release_all");
    public final LuaScript fenceRedraw = LuaScript.load("fence_redraw");
    public final LuaScript completeAll = LuaScript.load("complete_all");
    public final LuaScript existsAll = LuaScript.load("exists_all");
    public final LuaScript completeRelease = LuaScript.load("complete_release");
    public final LuaScript partitionCommit = LuaScript.load("partition_commit");
    public final LuaScript partitionOpen = LuaScript.load("partition_open");
    public final LuaScript partitionInit = LuaScript.load("partition_init");
    public final LuaScript partitionTrim = LuaScript.load("partition_trim");
    public final LuaScript partitionHold = LuaScript.load("partition_hold");
    public final LuaScript partitionDeadLetter = LuaScript.load("partition_dead_letter");
    public final LuaScript leaseAcquire = LuaScript.load("lease_acquire");
    public final LuaScript leaseRenew = LuaScript.load("lease_renew");
    public final LuaScript leaseRelease = LuaScript.load("lease_release");
    public final LuaScript route = LuaScript.load("route");
    public final LuaScript publishAll = LuaScript.load("publish_all");
    public final LuaScript delayedAdd = LuaScript.load("delayed_add");
    public final LuaScript delayedCancel = LuaScript.load("delayed_cancel");
    public final LuaScript delayedReschedule = LuaScript.load("delayed_reschedule");
    public final LuaScript delayedMove = LuaScript.load("delayed_move");
    public final LuaScript schedulePut = LuaScript.load("schedule_put");
    public final LuaScript scheduleDelete = LuaScript.load("schedule_delete");
    public final LuaScript scheduleFire = LuaScript.load("schedule_fire");
    public final LuaScript scheduleHome = LuaScript.load("schedule_home");
    public final LuaScript scheduleLeave = LuaScript.load("schedule_leave");

    List<LuaScript> all() {
        return List.of(reschedule, deadLetter, moveDue, keepAlive, release, removeIdleConsumers, trim,
                lockAcquire, lockRenew, lockRelease, lockAcquireAll, lockReleaseAll, fenceRedraw, completeAll, existsAll, completeRelease,
                partitionCommit, partitionOpen, partitionInit, partitionTrim, partitionHold, partitionDeadLetter, leaseAcquire, leaseRenew,
                leaseRelease, route, publishAll, delayedAdd, delayedCancel, delayedReschedule, delayedMove,
                schedulePut, scheduleDelete, scheduleFire, scheduleHome, scheduleLeave);
    }

    public void loadAll(UnifiedJedis redis) {
        for (LuaScript s : all()) {
            s.loadInto(redis);
        }
    }
}
