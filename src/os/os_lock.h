/* A small test-and-test-and-set lock for the host side's short critical sections (a magazine
 * push, a mapping record, a bounce-slot bitmap update): uncontended it is one atomic exchange
 * and one store, about a third of a pthread mutex pair. A waiter spins briefly, then yields, so
 * a holder that was preempted is not starved on an oversubscribed machine. Never held across
 * anything that can block or run long (invalidation waits use mutexes). */
#ifndef SIO_OS_LOCK_H
#define SIO_OS_LOCK_H

#include <sched.h>
#include <stdatomic.h>

struct os_lock {
    atomic_int held;
};

static inline void os_lock_init(struct os_lock *l)
{
    atomic_init(&l->held, 0);
}

static inline void os_lock(struct os_lock *l)
{
    for (unsigned spins = 0;; spins++) {
        if (!atomic_load_explicit(&l->held, memory_order_relaxed) &&
            !atomic_exchange_explicit(&l->held, 1, memory_order_acquire))
            return;
        if (spins >= 64)
            sched_yield();
#if defined(__x86_64__) || defined(__i386__)
        else
            __builtin_ia32_pause();
#endif
    }
}

static inline void os_unlock(struct os_lock *l)
{
    atomic_store_explicit(&l->held, 0, memory_order_release);
}

#endif
