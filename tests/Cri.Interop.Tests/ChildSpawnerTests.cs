using System.IO.Pipes;
using Xunit;

namespace Crisp.Interop.Tests;

/// <summary>Spawning conmon without a shell: the child's umask, fds, signals and exit, and crispd's own umask untouched.</summary>
public sealed class ChildSpawnerTests : IDisposable
{
    private const uint ChildUmask = 0x12; // 0022
    private readonly ChildSpawner _spawner = new(ChildUmask, "test spawner");
    private readonly string _directory = Directory.CreateTempSubdirectory("crisp-spawn-").FullName;

    public void Dispose()
    {
        _spawner.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    /// <summary>Runs `sh -c script` with its stdout on a pipe; its output and exit code.</summary>
    private async Task<(string Output, int? ExitCode)> RunShellAsync(string script, params ChildFd[] extra)
    {
        var (read, write) = Libc.Pipe();
        ChildProcess child;
        using (write)
        {
            child = await _spawner.SpawnAsync("/bin/sh", ["sh", "-c", script], ["PATH=/usr/bin:/bin"],
                [new ChildFd.OpenPath(0, "/dev/null", Libc.O_RDONLY), new ChildFd.Duplicate(1, write), .. extra]);
        }
        using var output = new StreamReader(new AnonymousPipeClientStream(PipeDirection.In, read));
        var text = await output.ReadToEndAsync();
        return (text.Trim(), await child.Exited.WaitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task TheChildGetsTheSpawnersUmaskWhileThisProcessKeepsItsOwn()
    {
        var before = Libc.SetUmask(0x3F);
        try
        {
            var (umask, exit) = await RunShellAsync("umask");

            Assert.Equal(0, exit);
            Assert.Equal("0022", umask);
            // The spawner changed its own thread's umask only: a file created here still gets 0077's mode.
            var path = Path.Combine(_directory, "after-spawn");
            await File.WriteAllTextAsync(path, "x");
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }
        finally
        {
            Libc.SetUmask(before);
        }
    }

    [Fact]
    public async Task TheChildOpensAFileAsAnFdBeyondStderr()
    {
        var target = Path.Combine(_directory, "fd3");

        var (_, exit) = await RunShellAsync("echo through-fd-3 >&3",
            new ChildFd.OpenPath(3, target, Libc.O_WRONLY | Libc.O_CREAT | Libc.O_APPEND, 0x180));

        Assert.Equal(0, exit);
        Assert.Equal("through-fd-3\n", await File.ReadAllTextAsync(target));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(target));
    }

    [Fact]
    public async Task TheChildGetsOnlyTheEnvironmentItIsGiven()
    {
        Environment.SetEnvironmentVariable("CRISP_SPAWN_TEST_LEAK", "leaked");
        try
        {
            var (output, _) = await RunShellAsync("echo \"[$CRISP_SPAWN_TEST_LEAK][$PATH]\"");

            Assert.Equal("[][/usr/bin:/bin]", output);
        }
        finally
        {
            Environment.SetEnvironmentVariable("CRISP_SPAWN_TEST_LEAK", null);
        }
    }

    [Fact]
    public async Task TheChildStartsWithNoSignalIgnoredOrBlocked()
    {
        // .NET ignores SIGPIPE in this process; conmon and the container must not inherit that.
        var (output, _) = await RunShellAsync("grep -E '^Sig(Ign|Blk):' /proc/self/status | tr -d '\\t'");

        Assert.Equal("SigBlk:0000000000000000\nSigIgn:0000000000000000", output);
    }

    [Fact]
    public async Task TheExitCodeIsReported()
    {
        var (_, exit) = await RunShellAsync("exit 7");

        Assert.Equal(7, exit);
    }

    [Fact]
    public async Task AKilledChildReportsTheSignal()
    {
        var child = await _spawner.SpawnAsync("/bin/sleep", ["sleep", "600"], [], [new ChildFd.OpenPath(0, "/dev/null", Libc.O_RDONLY)]);

        child.Kill();

        Assert.Equal(128 + 9, await child.Exited.WaitAsync(TimeSpan.FromSeconds(30)));
        // Reaped: a second kill must not signal whatever has the pid now.
        child.Kill();
    }

    [Fact]
    public async Task AMissingProgramNamesTheCallAndThePath()
    {
        var error = await Assert.ThrowsAsync<SyscallException>(() =>
            _spawner.SpawnAsync("/no/such/conmon", ["conmon"], [], []));

        Assert.Equal("posix_spawn", error.Syscall);
        Assert.Equal(Errno.ENOENT, error.Errno);
        Assert.Equal("/no/such/conmon", error.Subject);
    }
}
