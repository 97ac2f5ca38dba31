using Crisp.Cri.V1;
using Crisp.Runtime.Api;
using Crisp.Runtime.Oci;
using Xunit;

namespace Crisp.Runtime.Tests.Oci;

public sealed class SeccompTests : IDisposable
{
    private readonly SpecFixture fixture = new();

    public void Dispose() => fixture.Dispose();

    private static IEnumerable<string> Allowed(OciSeccomp profile) =>
        profile.Syscalls!.Where(s => s.Action == "SCMP_ACT_ALLOW" && s.Args is null).SelectMany(s => s.Names);

    [Fact]
    public void RuntimeDefaultIsAnAllowListThatBlocksDangerousCalls()
    {
        var profile = DefaultSeccompProfile.Build("amd64");
        Assert.Equal("SCMP_ACT_ERRNO", profile.DefaultAction);
        Assert.Equal(1u, profile.DefaultErrnoRet);
        Assert.Equal(["SCMP_ACT_ALLOW"], profile.Syscalls!.Where(s => s.Args is null && s.Names.Contains("read")).Select(s => s.Action));
        var allowed = Allowed(profile).ToHashSet();
        foreach (var blocked in new[] { "keyctl", "add_key", "mount", "unshare", "reboot", "kexec_load", "init_module", "bpf", "setns", "pivot_root", "swapon" })
            Assert.DoesNotContain(blocked, allowed);
        foreach (var needed in new[] { "read", "write", "execve", "futex", "epoll_wait", "socket", "arch_prctl", "chroot" })
            Assert.Contains(needed, allowed);
        Assert.Equal(["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"], profile.Architectures);
    }

    [Fact]
    public void CloneIsAllowedOnlyWithoutNamespaceFlags()
    {
        var profile = DefaultSeccompProfile.Build("amd64");
        var clone = Assert.Single(profile.Syscalls!, s => s.Names.SequenceEqual(["clone"]));
        var arg = Assert.Single(clone.Args!);
        Assert.Equal("SCMP_CMP_MASKED_EQ", arg.Op);
        Assert.Equal(0x7E020000ul, arg.Value);
        Assert.Equal(0ul, arg.ValueTwo);
        var clone3 = Assert.Single(profile.Syscalls!, s => s.Names.SequenceEqual(["clone3"]));
        Assert.Equal(("SCMP_ACT_ERRNO", 38u), (clone3.Action, clone3.ErrnoRet!.Value));
    }

    [Fact]
    public void SysAdminCapabilityUnlocksMountCalls()
    {
        var profile = DefaultSeccompProfile.Build("arm64", [.. DefaultCapabilities.Names, "CAP_SYS_ADMIN"]);
        var allowed = Allowed(profile).ToHashSet();
        Assert.Contains("mount", allowed);
        Assert.Contains("unshare", allowed);
        Assert.Contains("clone3", allowed);
        Assert.DoesNotContain("arch_prctl", allowed);
        Assert.Equal(["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"], profile.Architectures);
    }

    [Fact]
    public void ProfileSurvivesJsonRoundTrip()
    {
        var spec = new OciSpec { Linux = new OciLinux { Seccomp = DefaultSeccompProfile.Build("amd64") } };
        var json = spec.ToJson();
        Assert.Contains("\"defaultAction\":\"SCMP_ACT_ERRNO\"", json);
        Assert.DoesNotContain("null", json);
        var back = OciSpec.FromJson(json);
        Assert.Equal(json, back.ToJson());
        Assert.Equal(spec.Linux.Seccomp.Syscalls!.Count, back.Linux!.Seccomp!.Syscalls!.Count);
    }

    private static LinuxContainerSecurityContext Profile(SecurityProfile.Types.ProfileType type, string localhostRef = "") =>
        new() { Seccomp = new SecurityProfile { ProfileType = type, LocalhostRef = localhostRef } };

    [Fact]
    public void SelectionFollowsTheSecurityProfile()
    {
        var host = SpecFixture.Host();
        Assert.Null(SeccompSelector.Select(null, host, "amd64", DefaultCapabilities.Names));
        Assert.Null(SeccompSelector.Select(new LinuxContainerSecurityContext(), host, "amd64", DefaultCapabilities.Names));
        Assert.Null(SeccompSelector.Select(Profile(SecurityProfile.Types.ProfileType.Unconfined), host, "amd64", DefaultCapabilities.Names));
        Assert.NotNull(SeccompSelector.Select(Profile(SecurityProfile.Types.ProfileType.RuntimeDefault), host, "amd64", DefaultCapabilities.Names));
        var privileged = Profile(SecurityProfile.Types.ProfileType.RuntimeDefault);
        privileged.Privileged = true;
        Assert.Null(SeccompSelector.Select(privileged, host, "amd64", DefaultCapabilities.Names));
    }

    [Fact]
    public void DeprecatedProfilePathStillWorks()
    {
#pragma warning disable CS0612
        var sc = new LinuxContainerSecurityContext { SeccompProfilePath = "runtime/default" };
        Assert.NotNull(SeccompSelector.Select(sc, SpecFixture.Host(), "amd64", DefaultCapabilities.Names));
        sc.SeccompProfilePath = "unconfined";
        Assert.Null(SeccompSelector.Select(sc, SpecFixture.Host(), "amd64", DefaultCapabilities.Names));
        sc.SeccompProfilePath = "bogus";
        var e = Assert.Throws<RuntimeException>(() => SeccompSelector.Select(sc, SpecFixture.Host(), "amd64", DefaultCapabilities.Names));
#pragma warning restore CS0612
        Assert.StartsWith("config.linux.security_context.seccomp_profile_path:", e.Message);
    }

    [Fact]
    public void ProfileOnHostWithoutSeccompIsRefused()
    {
        var e = Assert.Throws<RuntimeException>(() => SeccompSelector.Select(
            Profile(SecurityProfile.Types.ProfileType.RuntimeDefault), SpecFixture.Host(seccomp: false), "amd64", DefaultCapabilities.Names));
        Assert.Equal(RuntimeErrorKind.InvalidArgument, e.Kind);
        // Unconfined needs nothing from the host.
        Assert.Null(SeccompSelector.Select(Profile(SecurityProfile.Types.ProfileType.Unconfined), SpecFixture.Host(seccomp: false), "amd64", DefaultCapabilities.Names));
    }

    [Fact]
    public void LocalhostProfileIsLoadedAndFilteredByArchAndCapabilities()
    {
        var path = Path.Combine(fixture.Root, "profile.json");
        File.WriteAllText(path, """
            {
              "defaultAction": "SCMP_ACT_ERRNO",
              "archMap": [
                { "architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86"] },
                { "architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"] }
              ],
              "syscalls": [
                { "names": ["read", "write"], "action": "SCMP_ACT_ALLOW" },
                { "names": ["mount"], "action": "SCMP_ACT_ALLOW", "includes": { "caps": ["CAP_SYS_ADMIN"] } },
                { "names": ["arch_prctl"], "action": "SCMP_ACT_ALLOW", "includes": { "arches": ["amd64"] } },
                { "names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [ { "index": 0, "value": 8, "op": "SCMP_CMP_EQ" } ] }
              ]
            }
            """);
        var profile = SeccompSelector.Select(Profile(SecurityProfile.Types.ProfileType.Localhost, path), SpecFixture.Host(), "amd64", DefaultCapabilities.Names)!;

        Assert.Equal(["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"], profile.Architectures);
        var names = profile.Syscalls!.SelectMany(s => s.Names).ToList();
        Assert.Equal(["read", "write", "arch_prctl", "personality"], names);
        Assert.Equal(8ul, profile.Syscalls![^1].Args![0].Value);
    }

    [Fact]
    public void MissingLocalhostProfileNamesTheField()
    {
        var e = Assert.Throws<RuntimeException>(() => SeccompSelector.Select(
            Profile(SecurityProfile.Types.ProfileType.Localhost, Path.Combine(fixture.Root, "absent.json")), SpecFixture.Host(), "amd64", DefaultCapabilities.Names));
        Assert.Equal(RuntimeErrorKind.InvalidArgument, e.Kind);
        Assert.StartsWith("config.linux.security_context.seccomp.localhost_ref:", e.Message);
    }

    [Fact]
    public void MalformedLocalhostProfileIsInvalidArgument()
    {
        var path = Path.Combine(fixture.Root, "bad.json");
        File.WriteAllText(path, "{ \"syscalls\": [] }");
        var e = Assert.Throws<RuntimeException>(() => SeccompSelector.Select(
            Profile(SecurityProfile.Types.ProfileType.Localhost, path), SpecFixture.Host(), "amd64", DefaultCapabilities.Names));
        Assert.Contains("defaultAction", e.Message);
    }
}
