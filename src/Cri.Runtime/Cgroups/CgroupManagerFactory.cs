using Crisp.Runtime.Api;
using Crisp.Runtime.Host;
using Microsoft.Extensions.Logging;

namespace Crisp.Runtime.Cgroups;

public static class CgroupManagerFactory
{
    /// <summary>
    /// The manager for this host's hierarchy (<see cref="HostFeatures.CgroupV2"/>) and the configured driver.
    /// The systemd driver only changes naming here: pod parents are slices, container paths "slice:crisp:id",
    /// and both map onto the slice tree on disk. Creating systemd units is left to the runtime (runc
    /// --systemd-cgroup); it is untested on these machines, which have no systemd.
    /// </summary>
    public static ICgroupManager Create(HostFeatures host, string driver)
    {
        var naming = CgroupNaming.For(driver);
        return host.CgroupV2 ? new CgroupV2Manager(naming) : new CgroupV1Manager(naming);
    }

    /// <summary>Detects the host's hierarchy and uses <see cref="RuntimeOptions.CgroupDriver"/>.</summary>
    public static ICgroupManager Create(RuntimeOptions options, ILoggerFactory loggerFactory)
    {
        var manager = Create(HostFeatureDetector.Detect(), options.CgroupDriver);
        loggerFactory.CreateLogger(typeof(CgroupManagerFactory)).LogInformation(
            "cgroup manager: {Version}, driver {Driver}", manager.IsV2 ? "v2 (unified)" : "v1", manager.Driver);
        return manager;
    }
}
