using Xunit;

namespace Crisp.E2E.Fixtures;

/// <summary>Tests in <c>[Collection(RegistryCollection.Name)]</c> share one <see cref="RegistryWithImages"/>.</summary>
[CollectionDefinition(Name)]
public sealed class RegistryCollection : ICollectionFixture<RegistryWithImages>
{
    public const string Name = "registry";
}
