package dev.workflowworker.redis.internal.shared.archfixture;

/** Keeps the modes rule: a mode on the client layer both share. */
public class SharedModeUsingTheClient {
    dev.workflowworker.redis.internal.client.StreamClient client;
}
