print("synccli")
