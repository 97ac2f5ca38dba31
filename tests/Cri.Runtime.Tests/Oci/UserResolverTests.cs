using Crisp.Cri.V1;
using Crisp.Runtime.Api;
using Crisp.Runtime.Oci;
using Xunit;

namespace Crisp.Runtime.Tests.Oci;

public sealed class UserResolverTests : IDisposable
{
    private readonly SpecFixture fixture = new();

    public void Dispose() => fixture.Dispose();

    [Fact]
    public void NoUserAnywhereIsRoot()
    {
        var user = UserResolver.Resolve(fixture.Rootfs, null, null);
        Assert.Equal((0, 0, "root"), (user.Uid, user.Gid, user.Username));
        Assert.Equal([0L], user.AdditionalGids);
    }

    [Fact]
    public void NumericImageUserTakesPrimaryGroupFromPasswd()
    {
        var user = UserResolver.Resolve(fixture.Rootfs, "1000", null);
        Assert.Equal((1000, 1000, "alice"), (user.Uid, user.Gid, user.Username));
        // Merge: groups listing alice in /etc/group are added, primary first then ascending.
        Assert.Equal([1000L, 29, 50], user.AdditionalGids);
    }

    [Fact]
    public void NumericUidMissingFromPasswdGetsGidZero()
    {
        var user = UserResolver.Resolve(fixture.Rootfs, "4242", null);
        Assert.Equal((4242, 0, (string?)null), (user.Uid, user.Gid, user.Username));
        Assert.Equal([0L], user.AdditionalGids);
    }

    [Fact]
    public void ImageUserByName()
    {
        var user = UserResolver.Resolve(fixture.Rootfs, "bob", null);
        Assert.Equal((1001, 1001, "bob"), (user.Uid, user.Gid, user.Username));
        Assert.Equal([1001L, 44, 50], user.AdditionalGids);
    }

    [Fact]
    public void ImageUidColonGid()
    {
        var user = UserResolver.Resolve(fixture.Rootfs, "1000:7", null);
        Assert.Equal((1000, 7), (user.Uid, user.Gid));
        Assert.Equal([7L, 29, 50], user.AdditionalGids);
    }

    [Fact]
    public void ImageNameColonGroupName()
    {
        var user = UserResolver.Resolve(fixture.Rootfs, "alice:video", null);
        Assert.Equal((1000, 44), (user.Uid, user.Gid));
    }

    [Fact]
    public void ImageUidColonGroupName()
    {
        var user = UserResolver.Resolve(fixture.Rootfs, "1001:staff", null);
        Assert.Equal((1001, 50, "bob"), (user.Uid, user.Gid, user.Username));
    }

    [Fact]
    public void UnknownImageUserNameIsInvalidArgument()
    {
        var e = Assert.Throws<RuntimeException>(() => UserResolver.Resolve(fixture.Rootfs, "mallory", null));
        Assert.Equal(RuntimeErrorKind.InvalidArgument, e.Kind);
        Assert.Contains("mallory", e.Message);
    }

    [Fact]
    public void UnknownImageGroupNameIsInvalidArgument()
    {
        var e = Assert.Throws<RuntimeException>(() => UserResolver.Resolve(fixture.Rootfs, "alice:nogroup", null));
        Assert.Contains("nogroup", e.Message);
    }

    [Fact]
    public void UnknownRunAsUsernameNamesTheField()
    {
        var sc = new LinuxContainerSecurityContext { RunAsUsername = "mallory" };
        var e = Assert.Throws<RuntimeException>(() => UserResolver.Resolve(fixture.Rootfs, null, sc));
        Assert.StartsWith("config.linux.security_context.run_as_username:", e.Message);
    }

    [Fact]
    public void SecurityContextOverridesImageUser()
    {
        var sc = new LinuxContainerSecurityContext { RunAsUser = new Int64Value { Value = 1001 }, RunAsGroup = new Int64Value { Value = 3000 } };
        var user = UserResolver.Resolve(fixture.Rootfs, "alice", sc);
        Assert.Equal((1001, 3000, "bob"), (user.Uid, user.Gid, user.Username));
    }

    [Fact]
    public void RunAsUsernameResolvesUid()
    {
        var sc = new LinuxContainerSecurityContext { RunAsUsername = "alice" };
        var user = UserResolver.Resolve(fixture.Rootfs, null, sc);
        Assert.Equal((1000, 1000), (user.Uid, user.Gid));
    }

    [Fact]
    public void RunAsGroupWithoutUserIsRefused()
    {
        var sc = new LinuxContainerSecurityContext { RunAsGroup = new Int64Value { Value = 5 } };
        var e = Assert.Throws<RuntimeException>(() => UserResolver.Resolve(fixture.Rootfs, "alice", sc));
        Assert.StartsWith("config.linux.security_context.run_as_group:", e.Message);
    }

    [Fact]
    public void MergeAddsImageGroupsToSupplementalGroups()
    {
        var sc = new LinuxContainerSecurityContext { RunAsUser = new Int64Value { Value = 1000 }, RunAsGroup = new Int64Value { Value = 3000 } };
        sc.SupplementalGroups.Add(4000);
        var user = UserResolver.Resolve(fixture.Rootfs, null, sc);
        Assert.Equal([3000L, 29, 50, 4000], user.AdditionalGids);
    }

    [Fact]
    public void StrictUsesOnlyPodSupplementalGroups()
    {
        var sc = new LinuxContainerSecurityContext
        {
            RunAsUser = new Int64Value { Value = 1000 },
            RunAsGroup = new Int64Value { Value = 3000 },
            SupplementalGroupsPolicy = SupplementalGroupsPolicy.Strict,
        };
        sc.SupplementalGroups.Add(4000);
        var user = UserResolver.Resolve(fixture.Rootfs, null, sc);
        Assert.Equal([3000L, 4000], user.AdditionalGids);
    }

    [Fact]
    public void PasswdSymlinkPointingOutsideTheRootfsIsNotFollowedToTheHost()
    {
        // A hostile image: /etc/passwd -> /outside/passwd. Resolved inside the rootfs it points at
        // <rootfs>/outside/passwd, which does not exist; the host file next to the rootfs must not be read.
        var outside = Path.Combine(fixture.Root, "outside");
        Directory.CreateDirectory(outside);
        File.WriteAllText(Path.Combine(outside, "passwd"), "mallory:x:666:666::/:/bin/sh\n");
        var passwd = Path.Combine(fixture.Rootfs, "etc/passwd");
        File.Delete(passwd);
        File.CreateSymbolicLink(passwd, outside + "/passwd");

        Assert.Throws<RuntimeException>(() => UserResolver.Resolve(fixture.Rootfs, "mallory", null));

        // The same via a relative link climbing out with "..": clamped at the rootfs root.
        File.Delete(passwd);
        File.CreateSymbolicLink(passwd, "../../../outside/passwd");
        Assert.Throws<RuntimeException>(() => UserResolver.Resolve(fixture.Rootfs, "mallory", null));
    }

    [Fact]
    public void PasswdSymlinkInsideTheRootfsIsFollowed()
    {
        var passwd = Path.Combine(fixture.Rootfs, "etc/passwd");
        Directory.CreateDirectory(Path.Combine(fixture.Rootfs, "data"));
        File.Move(passwd, Path.Combine(fixture.Rootfs, "data/passwd"));
        File.CreateSymbolicLink(passwd, "/data/passwd");

        Assert.Equal(1001, UserResolver.Resolve(fixture.Rootfs, "bob", null).Uid);
    }

    [Fact]
    public async Task PasswdThatIsAFifoIsTreatedAsAbsentInsteadOfBlocking()
    {
        var passwd = Path.Combine(fixture.Rootfs, "etc/passwd");
        File.Delete(passwd);
        Crisp.Interop.Libc.MkFifo(passwd, 0x1a4);

        var user = await Task.Run(() => UserResolver.Resolve(fixture.Rootfs, "1000", null)).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal((1000, 0, (string?)null), (user.Uid, user.Gid, user.Username));
    }

    [Fact]
    public void PasswdSymlinkLoopIsTreatedAsAbsent()
    {
        var passwd = Path.Combine(fixture.Rootfs, "etc/passwd");
        File.Delete(passwd);
        File.CreateSymbolicLink(passwd, "/etc/passwd");
        Assert.Throws<RuntimeException>(() => UserResolver.Resolve(fixture.Rootfs, "alice", null));
        Assert.Equal(5, UserResolver.Resolve(fixture.Rootfs, "5", null).Uid);
    }
}
