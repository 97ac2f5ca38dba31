namespace Crisp.Runtime.Cgroups;

/// <summary>Unit conversions between the CRI's v1-flavoured resource fields and cgroup v2 files.</summary>
internal static class ResourceConversions
{
    /// <summary>cpu.shares [2, 262144] onto cpu.weight [1, 10000], the mapping runc and the kubelet use.</summary>
    public static ulong SharesToWeight(long shares)
    {
        if (shares <= 0) return 0;
        var s = Math.Clamp(shares, 2, 262144);
        return (ulong)(1 + ((s - 2) * 9999) / 262142);
    }

    /// <summary>"quota period" for cpu.max; a quota of -1 or 0 with a period means unlimited.</summary>
    public static string CpuMax(long quota, long period) =>
        (quota > 0 ? quota.ToString(System.Globalization.CultureInfo.InvariantCulture) : "max") + " "
        + (period > 0 ? period : 100000).ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Hugepage size "2MB"/"1GB" as the kernel names the files ("2MB" → hugetlb.2MB.limit_in_bytes).</summary>
    public static string HugepageFileSize(string pageSize) => pageSize.Trim();
}
