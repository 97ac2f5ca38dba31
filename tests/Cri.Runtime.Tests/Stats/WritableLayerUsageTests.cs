using Xunit;
using Crisp.Runtime.Stats;

namespace Crisp.Runtime.Tests.Stats;

public sealed class WritableLayerUsageTests
{
    [Fact]
    public void Counts_bytes_of_files_and_every_inode()
    {
        var dir = Directory.CreateTempSubdirectory("crisp-upper-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(dir, "a", "b"));
            File.WriteAllBytes(Path.Combine(dir, "a", "f1"), new byte[1000]);
            File.WriteAllBytes(Path.Combine(dir, "a", "b", "f2"), new byte[24]);
            File.CreateSymbolicLink(Path.Combine(dir, "link"), "/nonexistent");
            var (bytes, inodes) = WritableLayerUsage.Measure(dir);
            Assert.Equal(1024UL, bytes);
            Assert.Equal(5UL, inodes); // a, a/b, f1, f2, link
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Missing_directory_is_zero() => Assert.Equal((0UL, 0UL), WritableLayerUsage.Measure("/nonexistent/crisp/upper"));
}
