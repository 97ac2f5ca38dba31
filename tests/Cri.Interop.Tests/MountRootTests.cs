using Crisp.Interop.Procfs;
using Xunit;

namespace Crisp.Interop.Tests;

/// <summary>statx's mount-root bit against this process's mount table (no mounts made: the host's own are used).</summary>
public sealed class MountRootTests
{
    [SkippableFact]
    public void The_root_and_procfs_are_mount_roots_and_a_plain_directory_is_not()
    {
        Skip.If(Libc.IsMountRoot("/") is null, "this kernel does not report STATX_ATTR_MOUNT_ROOT (Linux < 5.8)");
        var table = MountTable.ReadSelf();
        Assert.True(Libc.IsMountRoot("/"));
        Assert.Equal(table.IsMountPoint("/proc"), Libc.IsMountRoot("/proc"));
        var plain = Directory.CreateTempSubdirectory("crisp-mountroot-");
        try
        {
            Assert.Equal(table.IsMountPoint(plain.FullName), Libc.IsMountRoot(plain.FullName));
            Assert.False(Libc.IsMountRoot(Path.Combine(plain.FullName, "absent")));
            Assert.False(Libc.IsMountRoot(Path.Combine(plain.FullName, "absent", "below")));
        }
        finally
        {
            plain.Delete(recursive: true);
        }
    }

    [SkippableFact]
    public void A_symlink_to_a_mount_root_is_not_itself_one()
    {
        Skip.IfNot(Libc.IsMountRoot("/proc") == true, "/proc is not a mount point in this environment");
        var dir = Directory.CreateTempSubdirectory("crisp-mountroot-");
        try
        {
            var link = Path.Combine(dir.FullName, "proc");
            File.CreateSymbolicLink(link, "/proc");
            Assert.False(Libc.IsMountRoot(link));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
