package dev.workflowworker.core.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.workflowworker.api.ErrorCategory;
import dev.workflowworker.api.ErrorClassifier;
import dev.workflowworker.api.WorkflowException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.UndeclaredThrowableException;
import java.time.DateTimeException;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;

/**
 * Classifies failures in the order of docs/ARCHITECTURE.md, promise 5: the exception's own type,
 * then the given classifiers in order (the host's, then the transport's), then the defaults.
 */
public final class Classification {

    private static final Logger log = LoggerFactory.getLogger(Classification.class);

    private final List<ErrorClassifier> hostClassifiers;

    /** @param hostClassifiers the classifiers to consult in order before the defaults */
    public Classification(List<ErrorClassifier> hostClassifiers) {
        this.hostClassifiers = List.copyOf(hostClassifiers);
    }

    /**
     * @param error the failure
     * @return its category, never null
     */
    public ErrorCategory classify(Throwable error) {
        Throwable unwrapped = unwrap(error);
        if (unwrapped instanceof WorkflowException we) {
            return we.category();
        }
        for (ErrorClassifier classifier : hostClassifiers) {
            try {
                Optional<ErrorCategory> c = classifier.classify(unwrapped);
                if (c != null && c.isPresent()) {
                    return c.get();
                }
            } catch (RuntimeException e) {
                log.warn("error classifier {} threw; skipping it", classifier, e);
            }
        }
        return defaults(unwrapped).orElse(ErrorCategory.RECOVERABLE);
    }

    private static Optional<ErrorCategory> defaults(Throwable error) {
        // Walk the cause chain: a timeout wrapped in a library exception is still a timeout.
        int depth = 0;
        for (Throwable t = error; t != null && depth < 16; t = t.getCause(), depth++) {
            if (t instanceof JsonProcessingException || t instanceof IllegalArgumentException
                    || t instanceof DateTimeException || t instanceof ClassCastException) {
                return Optional.of(ErrorCategory.PERMANENT);
            }
            if (t instanceof IOException || t instanceof UncheckedIOException || t instanceof TimeoutException) {
                return Optional.of(ErrorCategory.TRANSIENT);
            }
        }
        return Optional.of(ErrorCategory.RECOVERABLE);
    }

    /** Strips wrappers added by executors and reflection, which say nothing about the failure. */
    static Throwable unwrap(Throwable error) {
        Throwable t = error;
        for (int i = 0; i < 8; i++) {
            Throwable cause = t.getCause();
            if (cause != null && (t instanceof ExecutionException || t instanceof CompletionException
                    || t instanceof InvocationTargetException || t instanceof UndeclaredThrowableException)) {
                t = cause;
            } else {
                break;
            }
        }
        return t;
    }
}
