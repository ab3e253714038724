package dev.workflowworker.core.archfixture;

/** Breaks the no-Redis-in-core rule by its name alone. */
public class RedisFlavouredCoreClass {
}
