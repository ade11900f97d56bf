module example.org/yaml.v1

go 1.19
