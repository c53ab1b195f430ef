package org.nestlm.train;

import org.nestlm.io.AtomicFiles;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A directory that one process writes: a training run ({@code pretrain}, {@code elastify}), a demo, a checkpoint
 * being written. Opening it takes an exclusive lock on {@link #LOCK_FILE} inside it, held until {@link #close}, so a
 * second process on the same directory fails at once with a message naming it; a process that dies releases the lock
 * with it. Once the lock is held, the leftovers of a killed writer are removed: {@link AtomicFiles} temp files,
 * {@code train_state.tmp/}, and a {@code train_state.old/} is put back when the kill came between the two renames of
 * {@link #save}.
 *
 * <p>Within one process the lock is re-entrant for the thread holding it (a command owns its {@code --out} and
 * the trainer it calls opens it again); another thread of the same process is refused as another process would be.
 * The lock file stays in the directory, except where {@link #publish} or {@link #discard} remove it: a process
 * that opened the removed file and locks it afterwards finds another file (or none) under that name and gives up.
 *
 * <p>The resumable state of a training run is {@code train_state/}. It is written whole into
 * {@code train_state.tmp/} and swapped in by renames, so a kill at any moment leaves the last complete state (the
 * previous one stays until the new one is in place).
 */
public final class RunDirectory implements AutoCloseable {

    public static final String STATE_DIR = "train_state";
    public static final String LOCK_FILE = ".nestlm.lock";

    /** Directories this process holds, by real path. */
    private static final Map<Path, Held> HELD = new HashMap<>();

    private static final class Held {
        final FileChannel channel;
        final FileLock lock;
        final Thread owner;
        int opens = 1;

        Held(FileChannel channel, FileLock lock) {
            this.channel = channel;
            this.lock = lock;
            this.owner = Thread.currentThread();
        }
    }

    private Path dir;
    private Path key;
    private boolean closed;

    private RunDirectory(Path dir, Path key) {
        this.dir = dir;
        this.key = key;
    }

    /**
     * Creates {@code dir} if needed (with the user's umask), locks it and removes a killed writer's leftovers.
     *
     * @throws IOException naming the directory when another process (or another thread of this one) holds it, or
     *                     when it is not a directory
     */
    public static RunDirectory open(Path dir) throws IOException {
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new FileAlreadyExistsException(dir + ": exists and is not a directory");
        }
        Files.createDirectories(dir);
        Path key = dir.toRealPath();
        synchronized (HELD) {
            Held h = HELD.get(key);
            if (h != null) {
                if (h.owner != Thread.currentThread()) {
                    throw inUse(dir, "another task of this process");
                }
                h.opens++;
                return new RunDirectory(dir, key);
            }
            Path lockFile = key.resolve(LOCK_FILE);
            FileChannel ch = null;
            FileLock lock = null;
            for (int attempt = 0; lock == null; attempt++) {
                ch = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
                Object opened = fileKey(lockFile);
                try {
                    lock = ch.tryLock();
                } catch (OverlappingFileLockException e) {
                    lock = null;   // held through another channel of this process
                } catch (IOException e) {
                    ch.close();
                    throw new IOException(dir + ": cannot lock " + LOCK_FILE + " (" + e.getMessage()
                            + "); the file system may not support locks: choose an output directory on a local disk", e);
                }
                if (lock == null) {
                    String holder = holder(ch);
                    ch.close();
                    throw inUse(dir, holder.isEmpty() ? "another process" : "process " + holder);
                }
                // The file locked must still be the one of that name: a holder that published or discarded the
                // directory removed it, and a lock on a removed file guards nothing. Compared by file key (a stat):
                // opening the file again and closing it would release this process's lock (POSIX record locks).
                Object locked = fileKey(lockFile);
                if (opened == null || !opened.equals(locked)) {
                    ch.close();
                    lock = null;
                    if (attempt >= 2) {
                        throw inUse(dir, "another process");
                    }
                }
            }
            try {
                // who holds it, for the message a second process prints
                ch.truncate(0);
                ch.write(ByteBuffer.wrap((ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.UTF_8)), 0);
                removeLeftovers(key);
            } catch (IOException | RuntimeException e) {
                ch.close();
                throw e;
            }
            HELD.put(key, new Held(ch, lock));
            return new RunDirectory(dir, key);
        }
    }

    private static InUseException inUse(Path dir, String holder) {
        return new InUseException(dir + " is in use by " + holder + " (lock " + LOCK_FILE + "); wait for it to finish, "
                + "or choose another output directory");
    }

    /** The directory is held by another process (or another thread of this one). */
    public static final class InUseException extends IOException {
        public InUseException(String message) {
            super(message);
        }
    }

    private static Object fileKey(Path file) {
        try {
            return Files.readAttributes(file, java.nio.file.attribute.BasicFileAttributes.class).fileKey();
        } catch (IOException e) {
            return null;
        }
    }

    private static String holder(FileChannel ch) {
        try {
            ByteBuffer b = ByteBuffer.allocate(32);
            ch.read(b, 0);
            return new String(b.array(), 0, b.position(), StandardCharsets.UTF_8).trim();
        } catch (IOException e) {
            return "";
        }
    }

    /** AtomicFiles temp files, {@code train_state.tmp/}, and an interrupted swap of {@code train_state/}. */
    private static void removeLeftovers(Path dir) throws IOException {
        List<Path> temps;
        try (Stream<Path> s = Files.list(dir)) {
            temps = s.filter(p -> AtomicFiles.isTemporary(p.getFileName().toString())).toList();
        }
        for (Path t : temps) {
            deleteTree(t);
        }
        deleteTree(dir.resolve(STATE_DIR + ".tmp"));
        recover(dir);
    }

    public Path path() {
        return dir;
    }

    /**
     * The run's {@code log.jsonl} for a run that starts at {@code step}: a fresh run (step 0) empties an old log, a
     * resumed one keeps exactly the entries up to its checkpoint's step.
     */
    public TrainLog log(int step) throws IOException {
        TrainLog log = new TrainLog(dir);
        log.truncateAfter(step);
        return log;
    }

    /** Removes everything in the directory but the lock (a scratch directory reused after a kill). */
    public void clear() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.filter(p -> !p.getFileName().toString().equals(LOCK_FILE)).toList()) {
                deleteTree(p);
            }
        }
    }

    /**
     * Renames this directory, complete, to {@code target} (which must not exist, or be an empty directory) and
     * drops the lock file from it; the lock is held until {@link #close}. A process that opened the old name meanwhile
     * finds the target taken.
     *
     * @throws FileAlreadyExistsException when {@code target} holds files
     */
    public void publish(Path target) throws IOException {
        synchronized (HELD) {
            Held h = HELD.get(key);
            if (h == null || h.opens != 1) {
                throw new IllegalStateException(dir + ": published while opened more than once");
            }
            Path moved = target.toAbsolutePath().normalize();
            moved = moved.getParent().toRealPath().resolve(moved.getFileName());
            try {
                if (Files.isDirectory(moved)) {
                    Files.delete(moved);   // an empty directory; a full one is refused
                }
                Files.move(key, moved, StandardCopyOption.ATOMIC_MOVE);
            } catch (DirectoryNotEmptyException | FileAlreadyExistsException e) {
                throw new FileAlreadyExistsException(target + ": already exists; write into a new directory");
            }
            HELD.remove(key);
            HELD.put(moved, h);
            dir = target;
            key = moved;
            try {
                Files.deleteIfExists(moved.resolve(LOCK_FILE));
            } catch (IOException ignored) {
                // a hidden lock file left in a complete directory does no harm
            }
        }
    }

    /** Removes the directory with everything in it (a scratch directory after a failure); then {@link #close}. */
    public void discard() throws IOException {
        if (!Files.isDirectory(key)) {
            return;
        }
        clear();
        Files.deleteIfExists(key.resolve(LOCK_FILE));
        Files.deleteIfExists(key);
    }

    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        synchronized (HELD) {
            Held h = HELD.get(key);
            if (h != null && --h.opens == 0) {
                HELD.remove(key);
                h.channel.close();   // releases the lock
            }
        }
    }

    public static Path state(Path run) {
        return run.resolve(STATE_DIR);
    }

    public static boolean hasState(Path run) {
        return Files.isDirectory(state(run));
    }

    /** Writes a new state with {@code writer} (which fills the given empty directory) and swaps it in. */
    public static void save(Path run, AtomicFiles.IOConsumer<Path> writer) throws IOException {
        Path tmp = run.resolve(STATE_DIR + ".tmp");
        Path state = state(run);
        Path old = run.resolve(STATE_DIR + ".old");
        deleteTree(tmp);
        Files.createDirectories(tmp);
        writer.accept(tmp);
        deleteTree(old);
        if (Files.exists(state)) {
            Files.move(state, old, StandardCopyOption.ATOMIC_MOVE);
        }
        Files.move(tmp, state, StandardCopyOption.ATOMIC_MOVE);
        deleteTree(old);
    }

    /** Recovers from a kill between the two renames of {@link #save}: the old state is then the last complete one. */
    public static void recover(Path run) throws IOException {
        Path old = run.resolve(STATE_DIR + ".old");
        if (!Files.exists(state(run)) && Files.exists(old)) {
            Files.move(old, state(run), StandardCopyOption.ATOMIC_MOVE);
        } else if (Files.exists(old)) {
            deleteTree(old);   // a kill after the new state was in place
        }
    }

    public static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
