//! The table of known paths and their methods, built from the OpenAPI document (which lists
//! every route), so that unknown paths answer 404 and known paths with the wrong method 405
//! with `Allow`.

use actix_web::dev::ResourceDef;
use utoipa::openapi::OpenApi;

pub struct RouteTable {
    routes: Vec<(ResourceDef, Vec<String>)>,
}

impl RouteTable {
    /// Every documented path with its methods, plus undocumented ones such as the docs UI.
    pub fn from_openapi(doc: &OpenApi, extra: &[(&str, &[&str])]) -> Self {
        let mut routes: Vec<(ResourceDef, Vec<String>)> = doc
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let mut methods: Vec<String> = [
                    ("GET", item.get.is_some()),
                    ("PUT", item.put.is_some()),
                    ("POST", item.post.is_some()),
                    ("DELETE", item.delete.is_some()),
                    ("PATCH", item.patch.is_some()),
                    ("HEAD", item.head.is_some()),
                    ("OPTIONS", item.options.is_some()),
                ]
                .into_iter()
                .filter(|(_, present)| *present)
                .map(|(m, _)| m.to_string())
                .collect();
                methods.dedup();
                (ResourceDef::new(path.as_str()), methods)
            })
            .collect();
        for (path, methods) in extra {
            routes.push((
                ResourceDef::new(*path),
                methods.iter().map(|m| m.to_string()).collect(),
            ));
        }
        RouteTable { routes }
    }

    /// The methods a path supports, or `None` when no route has this path. A fixed route
    /// (`/locations/import`) hides the templates it also matches (`/locations/{id}`).
    pub fn allowed_methods(&self, path: &str) -> Option<Vec<String>> {
        if let Some(literal) = self.literal_methods(path) {
            return Some(literal);
        }
        let mut allowed: Vec<String> = Vec::new();
        for (def, methods) in &self.routes {
            if def.is_match(path) {
                for m in methods {
                    if !allowed.contains(m) {
                        allowed.push(m.clone());
                    }
                }
            }
        }
        (!allowed.is_empty()).then_some(allowed)
    }
}

impl RouteTable {
    /// The methods of the routes whose pattern is exactly `path`, with no parameters (so
    /// `/locations/import` is told apart from `/locations/{id}`).
    pub fn literal_methods(&self, path: &str) -> Option<Vec<String>> {
        let mut allowed: Vec<String> = Vec::new();
        for (def, methods) in &self.routes {
            if def.pattern().is_some_and(|p| p == path && !p.contains('{')) {
                allowed.extend(
                    methods
                        .iter()
                        .filter(|m| !allowed.contains(m))
                        .cloned()
                        .collect::<Vec<_>>(),
                );
            }
        }
        (!allowed.is_empty()).then_some(allowed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use utoipa::openapi::path::{HttpMethod, OperationBuilder, PathItem};
    use utoipa::openapi::{OpenApiBuilder, PathsBuilder};

    #[test]
    fn known_paths_list_their_methods_and_unknown_ones_none() {
        let doc = OpenApiBuilder::new()
            .paths(
                PathsBuilder::new()
                    .path(
                        "/api/v1/users/{id}",
                        PathItem::new(HttpMethod::Get, OperationBuilder::new().build()),
                    )
                    .path(
                        "/healthz",
                        PathItem::new(HttpMethod::Get, OperationBuilder::new().build()),
                    ),
            )
            .build();
        let table = RouteTable::from_openapi(&doc, &[("/docs", &["GET"])]);
        assert_eq!(
            table.allowed_methods("/api/v1/users/0195"),
            Some(vec!["GET".to_string()])
        );
        assert_eq!(
            table.allowed_methods("/docs"),
            Some(vec!["GET".to_string()])
        );
        assert_eq!(table.allowed_methods("/api/v1/users"), None);
        assert_eq!(table.allowed_methods("/nope"), None);
    }
}

#[cfg(test)]
mod literal_tests {
    use super::*;

    #[test]
    fn fixed_routes_are_found_beside_templates() {
        let table = RouteTable::from_openapi(&crate::openapi::document(), &[]);
        assert_eq!(
            table.literal_methods("/api/v1/locations/import"),
            Some(vec!["POST".to_string()])
        );
        assert_eq!(table.literal_methods("/api/v1/locations/0195"), None);
        assert_eq!(
            table.allowed_methods("/api/v1/locations/import"),
            Some(vec!["POST".to_string()])
        );
    }
}
