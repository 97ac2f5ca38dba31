using Crisp.Cri.V1;
using Crisp.Runtime.Api;
using Crisp.Runtime.Oci;
using Xunit;

namespace Crisp.Runtime.Tests.Oci;

public sealed class ContainerConfigValidatorTests
{
    private const string LogDir = "/var/log/pods/ns_pod_uid";

    private static string Reject(ContainerConfig config, string logDir = LogDir)
    {
        var e = Assert.Throws<RuntimeException>(() => ContainerConfigValidator.Validate(config, logDir));
        Assert.Equal(RuntimeErrorKind.InvalidArgument, e.Kind);
        return e.Message;
    }

    [Fact]
    public void ValidConfigPasses()
    {
        var config = SpecFixture.Config();
        config.LogPath = "app/0.log";
        config.Mounts.Add(new Mount { ContainerPath = "/data", HostPath = "/var/lib/data" });
        config.Linux.Resources.CpuShares = 2;
        config.Linux.Resources.MemoryLimitInBytes = 4 << 20;
        config.Linux.Resources.CpuQuota = -1;
        config.Linux.Resources.CpusetCpus = "0-1,3";
        ContainerConfigValidator.Validate(config, LogDir);
    }

    [Fact]
    public void MetadataAndName()
    {
        var config = SpecFixture.Config();
        config.Metadata = null;
        Assert.StartsWith("config.metadata:", Reject(config));
        config = SpecFixture.Config("");
        Assert.StartsWith("config.metadata.name:", Reject(config));
        config = SpecFixture.Config("a/b");
        Assert.StartsWith("config.metadata.name:", Reject(config));
    }

    [Theory]
    [InlineData("/abs/0.log")]
    [InlineData("../other/0.log")]
    [InlineData("app/../../0.log")]
    public void LogPathMustStayInThePodLogDirectory(string logPath)
    {
        var config = SpecFixture.Config();
        config.LogPath = logPath;
        Assert.StartsWith("config.log_path:", Reject(config));
    }

    [Fact]
    public void MountPathsNameTheIndex()
    {
        var config = SpecFixture.Config();
        config.Mounts.Add(new Mount { ContainerPath = "/ok", HostPath = "/ok" });
        config.Mounts.Add(new Mount { ContainerPath = "/data", HostPath = "/var/../etc" });
        Assert.StartsWith("config.mounts[1].host_path:", Reject(config));

        config = SpecFixture.Config();
        config.Mounts.Add(new Mount { ContainerPath = "/data", HostPath = "relative" });
        Assert.StartsWith("config.mounts[0].host_path:", Reject(config));

        config = SpecFixture.Config();
        config.Mounts.Add(new Mount { ContainerPath = "data", HostPath = "/data" });
        Assert.StartsWith("config.mounts[0].container_path:", Reject(config));

        config = SpecFixture.Config();
        config.Mounts.Add(new Mount { ContainerPath = "/d", HostPath = "/a" });
        config.Mounts.Add(new Mount { ContainerPath = "/d/", HostPath = "/b" });
        Assert.StartsWith("config.mounts[1].container_path:", Reject(config));

    }

    [Fact]
    public void ImageVolumesNeedNoHostPathButARelativeSubPathInsideTheImage()
    {
        var config = SpecFixture.Config();
        config.Mounts.Add(new Mount { ContainerPath = "/img", Image = new ImageSpec { Image = "x" }, ImageSubPath = "usr/share" });
        ContainerConfigValidator.Validate(config, LogDir);

        foreach (var subPath in new[] { "../etc", "a/../../b", "/etc", "a/..", "a\0b" })
        {
            config = SpecFixture.Config();
            config.Mounts.Add(new Mount { ContainerPath = "/img", Image = new ImageSpec { Image = "x" }, ImageSubPath = subPath });
            Assert.StartsWith("config.mounts[0].image_sub_path:", Reject(config));
        }

        config = SpecFixture.Config();
        config.Mounts.Add(new Mount { ContainerPath = "/img", HostPath = "/data", ImageSubPath = "usr" });
        Assert.StartsWith("config.mounts[0].image_sub_path:", Reject(config));

        config = SpecFixture.Config();
        config.Mounts.Add(new Mount
        {
            ContainerPath = "/img",
            Image = new ImageSpec { Image = "x" },
            UidMappings = { new IDMapping { ContainerId = 0, HostId = 65536, Length = 65536 } },
        });
        Assert.StartsWith("config.mounts[0].uidMappings:", Reject(config));

        config = SpecFixture.Config();
        config.Mounts.Add(new Mount { ContainerPath = "/img", Image = new ImageSpec { Image = "x" }, Propagation = MountPropagation.PropagationBidirectional });
        Assert.StartsWith("config.mounts[0].propagation:", Reject(config));
    }

    [Theory]
    [InlineData("cpu_shares", 1)]
    [InlineData("cpu_shares", 262145)]
    [InlineData("cpu_shares", -5)]
    [InlineData("cpu_period", 500)]
    [InlineData("cpu_quota", 10)]
    [InlineData("memory_limit_in_bytes", -1)]
    [InlineData("memory_limit_in_bytes", 1024)]
    [InlineData("oom_score_adj", 1001)]
    public void AbsurdResources(string field, long value)
    {
        var config = SpecFixture.Config();
        var r = config.Linux.Resources;
        switch (field)
        {
            case "cpu_shares": r.CpuShares = value; break;
            case "cpu_period": r.CpuPeriod = value; break;
            case "cpu_quota": r.CpuQuota = value; break;
            case "memory_limit_in_bytes": r.MemoryLimitInBytes = value; break;
            case "oom_score_adj": r.OomScoreAdj = value; break;
        }
        Assert.StartsWith($"config.linux.resources.{field}:", Reject(config));
    }

    [Fact]
    public void BadCpusetAndHugepages()
    {
        var config = SpecFixture.Config();
        config.Linux.Resources.CpusetCpus = "3-1";
        Assert.StartsWith("config.linux.resources.cpuset_cpus:", Reject(config));
        config = SpecFixture.Config();
        config.Linux.Resources.HugepageLimits.Add(new HugepageLimit { PageSize = "huge" });
        Assert.StartsWith("config.linux.resources.hugepage_limits[0].page_size:", Reject(config));
    }

    [Fact]
    public void SecurityContextAndUnsupportedFeatures()
    {
        var config = SpecFixture.Config();
        config.Linux.SecurityContext.RunAsUser = new Int64Value { Value = -1 };
        Assert.StartsWith("config.linux.security_context.run_as_user:", Reject(config));

        config = SpecFixture.Config();
        config.Linux.SecurityContext.NamespaceOptions = new NamespaceOption { UsernsOptions = new UserNamespace { Mode = NamespaceMode.Pod } };
        Assert.StartsWith("config.linux.security_context.namespace_options.userns_options.uids:", Reject(config));
        config.Linux.SecurityContext.NamespaceOptions.UsernsOptions.Mode = NamespaceMode.Container;
        Assert.StartsWith("config.linux.security_context.namespace_options.userns_options.mode:", Reject(config));

        config = SpecFixture.Config();
        config.CDIDevices.Add(new CDIDevice { Name = "gpu0" });
        Assert.StartsWith("config.CDI_devices[0].name:", Reject(config));

        config = SpecFixture.Config();
        config.Devices.Add(new Device { HostPath = "/dev/null", ContainerPath = "/dev/null", Permissions = "rwx" });
        Assert.StartsWith("config.devices[0].permissions:", Reject(config));
    }
}
