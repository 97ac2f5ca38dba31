using Crisp.ImageService.Api;
using Crisp.ImageService.Registry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Crisp.ImageService;

public static class ServiceCollectionExtensions
{
    /// <summary>Registers the image service (registry client, stores, <see cref="IImageManager"/>) as singletons.</summary>
    public static IServiceCollection AddCrispImageService(this IServiceCollection services, ImageServiceOptions options)
    {
        services.TryAddSingleton(options);
        services.TryAddSingleton(_ => RegistryConfiguration.Load(options.RegistriesConfPath, options.RegistriesConfDir));
        services.TryAddSingleton(new RegistryClientOptions());
        services.TryAddSingleton(provider => new RegistryClient(
            provider.GetRequiredService<RegistryConfiguration>(),
            provider.GetRequiredService<Microsoft.Extensions.Logging.ILogger<RegistryClient>>(),
            provider.GetRequiredService<RegistryClientOptions>(),
            provider.GetService<TimeProvider>() ?? TimeProvider.System));
        services.TryAddSingleton<ImageManager>();
        services.TryAddSingleton<IImageManager>(provider => provider.GetRequiredService<ImageManager>());
        return services;
    }
}
